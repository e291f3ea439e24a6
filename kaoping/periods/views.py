"""Pages of periods and results: a scheme's periods, the result table, close and the lifecycle,
the explanation of a total, a subject's results and entries.

The scheme's page lives here, not in `schemes`, because it lists and opens the scheme's periods
and `schemes` sits below `periods`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.scoping import get_scoped_or_404, may, scope_signature
from kaoping.core.leases import lease_release, lease_take_over
from kaoping.core.pagecache import CachedPaginator, cached_value, paginator_number
from kaoping.core.progress import progress_running, progress_start
from kaoping.core.views import action_submit, form_submit
from kaoping.ledger.carried import carried_annotate
from kaoping.ledger.selectors import annotate_item_names, entry_list_of_subject
from kaoping.people.models import Subject
from kaoping.regions.selectors import rank_group_labels
from kaoping.schemes.models import Scheme, SchemeVersion
from kaoping.schemes.overlays import overlays_shown, variant_label
from kaoping.schemes.selectors import (
    scheme_grades,
    scheme_list,
    scheme_nodes,
    scheme_variants,
    scheme_version_newer,
    scheme_versions,
)

from .forms import OpenPeriodForm
from .lists import shortfall_messages
from .models import Period, PeriodStatus, Result
from .selectors import (
    explain,
    period_close_preview,
    period_grades,
    period_list_of_scheme,
    period_lists,
    result_groups,
    result_list,
    result_list_of_subject,
    subject_history,
)
from .services import (
    CLOSE_STEPS,
    period_finalise,
    period_open,
    period_post,
    period_rebind,
    period_reopen,
)
from .tasks import close_key, period_close_task

PAGE_SIZE = 50


@login_required
def scheme_detail(request, code: str):
    user = request.user
    scheme = get_scoped_or_404(
        Scheme.objects.select_related("region"), user, "scheme.view", code=code
    )
    versions = scheme_versions(scheme=scheme)
    shown = next(
        (v for v in versions if str(v.number) == request.GET.get("v")),
        versions[0] if versions else None,
    )
    variant = request.GET.get("variant", "")
    can_close = may(user, "period.close", scheme)
    form = OpenPeriodForm()
    if request.method == "POST":
        if not can_close:
            raise PermissionDenied
        form = OpenPeriodForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: period_open(scheme=scheme, label=data["label"], acting_user=user),
            redirect_to=lambda period: reverse("periods:detail", args=[period.pk]),
            fields={NON_FIELD_ERRORS: "label"},
        )
        if done:
            return done
    return render(
        request,
        "periods/scheme.html",
        {
            "scheme": scheme,
            "versions": versions,
            "shown": shown,
            "nodes": scheme_nodes(version=shown, variant=variant) if shown else [],
            "variants": scheme_variants(version=shown) if shown else [],
            "variant": variant,
            "variant_label": variant_label(version=shown, key=variant) if shown else "",
            "overlays": overlays_shown(version=shown) if shown else [],
            "periods": period_list_of_scheme(user=user, scheme=scheme),
            "form": form,
            "can_close": can_close,
            "grades": scheme_grades(version=shown) if shown else [],
        },
    )


def _ytd_points(version, result):
    """The year-to-date total (累计) in points, None where the scheme keeps none."""
    return None if result.ytd is None else version.to_points(result.ytd)


def _standing_context(user, period: Period, group: str | None, groups: list, page) -> dict:
    """What `periods/_standing.html` shows: the lists and one page of the result table."""
    grades, grades_shown = period_grades(period=period, results=page.paginator.object_list)
    group_labels = rank_group_labels(groups)
    for result in page:
        result.points = period.version.to_points(result.total)
        result.ytd_points = _ytd_points(period.version, result)
        result.grade_name = grades.get(result.grade_code, "")
        result.group_label = group_labels.get(result.rank_group, result.rank_group)
    lists = period_lists(user, period)
    if len(groups) > 1:
        for member in (m for listed in lists for m in listed.members):
            member.group_label = group_labels.get(member.rank_group, "")
    return {
        "period": period,
        "page": page,
        "groups": [(g, group_labels.get(g, g)) for g in groups],
        "group": group,
        "lists": lists,
        "grades_shown": grades_shown,
    }


@login_required
def period_detail(request, pk: int):
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"), user, "period.view", pk=pk
    )
    group = request.GET.get("group") or None  # the form's "all" sends it empty
    results = result_list(user=user, period=period, group=group)
    if period.status == PeriodStatus.OPEN:
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        groups = result_groups(user=user, period=period)
        standing = render_to_string(
            "periods/_standing.html", _standing_context(user, period, group, groups, page)
        )
    else:
        # A closed period's standing (its lists and the pages of its table) changes only with
        # the period (pagecache.changed): each page is rendered once per reader's scope and
        # kept, as the public posting is; the pager needs only the count, kept too.
        scope = scope_signature(user, "period.view")
        paginator = CachedPaginator(
            results, PAGE_SIZE, namespace="period", idents=[period.pk], key=f"{scope}|{group}"
        )
        number = paginator_number(paginator, request.GET.get("page"))

        def render_standing() -> str:
            groups = result_groups(user=user, period=period)
            context = _standing_context(user, period, group, groups, paginator.page(number))
            return render_to_string("periods/_standing.html", context)

        standing = cached_value(
            "period",
            [period.pk],
            f"{scope}|{group}|{number}|{get_language()}|standing",
            render_standing,
        )
        page = Page([], number, paginator)
    return render(
        request,
        "periods/period.html",
        {
            "period": period,
            "page": page,
            "standing": mark_safe(standing),  # rendered by our template, escaped there
            "can_close": may(user, "period.close", period),
            "newer": scheme_version_newer(version=period.version),
            # Lists the last close could not fill (ranking.shortfall: warn); gone when reopened.
            "shortfalls": shortfall_messages(period.list_shortfalls)
            if period.status != PeriodStatus.OPEN
            else [],
        },
    )


@login_required
def period_close_view(request, pk: int):
    """GET: what the close would meet (subjects without data, missing figures, entries under
    review) and a button to confirm; POST with `confirm`: the close, as a task whose progress
    page (`core:progress`) the user is sent to; reloading that page never closes again. Nothing
    is written before."""
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"),
        request.user,
        "period.close",
        pk=pk,
    )
    key = close_key(period.pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        # One close of a period at a time: the lease is taken here and released by the task.
        # A second confirm (a double click, a re-posted form) is sent to the running close.
        if not lease_take_over(key):
            running = progress_running(kind="period.close", key=key)
            if running is not None:
                return redirect("core:progress", pk=running.pk)
            messages.error(request, _("This period is being closed; try again in a moment."))
            return redirect("periods:close", pk=period.pk)
        try:
            progress = progress_start(
                kind="period.close",
                key=key,
                label=_("Closing %(scheme)s %(period)s")
                % {"scheme": period.scheme.name, "period": period.label},
                total=CLOSE_STEPS,
                user_id=request.user.pk,
            )
            # Immediate backend (the embedded default): the close runs here and the progress
            # page shows it done; with a worker it runs there and the page follows it.
            period_close_task.enqueue(period.pk, request.user.pk, progress.pk)
        except BaseException:
            lease_release(key)
            raise
        return redirect("core:progress", pk=progress.pk)
    if request.method == "POST":
        return redirect("periods:close", pk=period.pk)
    return render(
        request,
        "periods/close.html",
        {
            "period": period,
            "preview": period_close_preview(period=period),
            "running": progress_running(kind="period.close", key=key),
        },
    )


@require_POST
@login_required
def period_transition_view(request, pk: int, action: str):
    """Post, finalise or reopen a period (county admins: period.close)."""
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"),
        request.user,
        "period.close",
        pk=pk,
    )
    transitions = {
        "post": (period_post, {}, _("Posted. Objections are taken until the window ends.")),
        "finalise": (period_finalise, {}, _("Finalised: the results are locked.")),
        "reopen": (
            period_reopen,
            {"reason": request.POST.get("reason", "")},
            _(
                "Reopened: the results, lists and untouched consequences of the close are "
                "cancelled (see the audit log)."
            ),
        ),
    }
    if action not in transitions:
        raise Http404
    service, arguments, success = transitions[action]
    return action_submit(
        request,
        lambda: service(period=period, acting_user=request.user, **arguments),
        redirect_to=reverse("periods:detail", args=[period.pk]),
        success=success,
    )


@require_POST
@login_required
def period_rebind_view(request, pk: int):
    period = get_scoped_or_404(
        Period.objects.select_related("scheme"), request.user, "period.close", pk=pk
    )
    version = get_scoped_or_404(
        SchemeVersion.objects.filter(scheme=period.scheme),
        request.user,
        "scheme.view",
        pk=request.POST.get("version"),
    )
    return action_submit(
        request,
        lambda: period_rebind(period=period, version=version, acting_user=request.user),
        redirect_to=reverse("periods:detail", args=[period.pk]),
        success=_("Now scored with version %(n)d; close the period to compute its results.")
        % {"n": version.number},
    )


@login_required
def result_explain(request, pk: int, subject_id: int):
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme", "version"), user, "period.view", pk=pk
    )
    result = get_scoped_or_404(
        Result.objects.select_related("subject__region"),
        user,
        "period.view",
        period=period,
        subject_id=subject_id,
    )
    result.group_label = rank_group_labels([result.rank_group]).get(result.rank_group, "")
    explained = explain(period, result)
    carried_annotate([e for n in explained["nodes"] for e in n.entries], user=user)
    return render(
        request,
        "periods/explain.html",
        {
            "period": period,
            "result": result,
            "ytd": _ytd_points(period.version, result),
            **explained,
        },
    )


@login_required
def subject_detail(request, pk: int):
    user = request.user
    subject = get_scoped_or_404(
        Subject.objects.select_related("region", "household"), user, "entry.view", pk=pk
    )
    results = list(result_list_of_subject(user=user, subject=subject))
    for result in results:
        result.points = result.period.version.to_points(result.total)
        result.ytd_points = _ytd_points(result.period.version, result)
    # One scheme's records at a time: the running total (∑) is that scheme's, never a sum of
    # points of different schemes.
    entries = entry_list_of_subject(user=user, subject=subject)
    schemes = list(scheme_list(user=user, subject_kind=subject.kind))
    recorded = set(entries.order_by().values_list("scheme__code", flat=True).distinct())
    tabs = [s for s in schemes if s.code in recorded]
    shown = next(
        (s for s in tabs if s.code == request.GET.get("scheme")), tabs[0] if tabs else None
    )
    if shown is not None:
        entries = entries.filter(scheme=shown)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    annotate_item_names(page)
    carried_annotate(page, user=user)
    return render(
        request,
        "periods/subject.html",
        {
            "subject": subject,
            "results": results,
            "page": page,
            "record_tabs": tabs,
            "record_scheme": shown,
            "schemes": schemes,
            "can_record": may(user, "entry.record", subject),
            "can_reverse": may(user, "entry.review", subject),
            # The totals, ranks and lists of closed periods: kept until one of them changes
            # (pagecache.changed) or the subject has a result in another period.
            "history": cached_value(
                "period",
                {result.period_id for result in results},
                f"history|{subject.pk}",
                lambda: subject_history(subject),
            ),
        },
    )
