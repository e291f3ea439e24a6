"""Console pages of the scoring engine: schemes, periods, results, explanations, entries."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Sum, Value, When, Window
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.core.errors import KaopingError
from kaoping.core.scoping import get_scoped_or_404
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.ledger.selectors import annotate_item_names
from kaoping.ledger.services import entry_record, scorable_items, subject_variant
from kaoping.people.models import Subject
from kaoping.periods.models import Period, Result
from kaoping.periods.selectors import explain, period_lists, subject_history
from kaoping.periods.services import (
    period_close,
    period_finalise,
    period_open,
    period_post,
    period_rebind,
    period_reopen,
)
from kaoping.regions.models import Level, Region
from kaoping.schemes.models import Scheme, SchemeGrade, SchemeNode, SchemeVersion
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

PAGE_SIZE = 50


class SchemeUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Scheme file (YAML)"))


@login_required
def scheme_list(request):
    user = request.user
    if not user_can(user, "scheme.view"):
        raise PermissionDenied
    problems = None
    form = SchemeUploadForm()
    if request.method == "POST":
        if not user_can(user, "scheme.manage"):
            raise PermissionDenied
        form = SchemeUploadForm(request.POST, request.FILES)
        region = Region.objects.for_user(user, "scheme.manage").filter(level=Level.COUNTY).first()
        if form.is_valid() and region is not None:
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8")
                version, created = scheme_load(
                    text=text, filename=upload.name, region=region, acting_user=user
                )
            except UnicodeDecodeError:
                problems = [_("The file is not UTF-8 text.")]
            except SchemeError as exc:
                problems = [str(p) for p in exc.problems]
            except KaopingError as exc:
                problems = exc.messages
            else:
                word = _("Loaded") if created else _("Already loaded")
                messages.success(request, f"{word}: {version.scheme.name} v{version.number}")
                return HttpResponseRedirect(reverse("console:scheme", args=[version.scheme.code]))
    schemes = (
        Scheme.objects.for_user(user, "scheme.view")
        .annotate(version_count=Count("versions"))
        .order_by("code")
    )
    return render(
        request,
        "console/schemes.html",
        {
            "schemes": schemes,
            "form": form,
            "problems": problems,
            "can_manage": user_can(user, "scheme.manage"),
        },
    )


class OpenPeriodForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Period"),
        max_length=16,
        help_text=gettext_lazy("e.g. 2026-03, 2026-Q1, 2026-H1, 2026"),
    )


@login_required
def scheme_detail(request, code: str):
    user = request.user
    scheme = get_scoped_or_404(
        Scheme.objects.select_related("region"), user, "scheme.view", code=code
    )
    versions = list(scheme.versions.select_related("loaded_by"))
    shown = next(
        (v for v in versions if str(v.number) == request.GET.get("v")),
        versions[0] if versions else None,
    )
    variant = request.GET.get("variant", "")
    nodes = (
        list(SchemeNode.objects.filter(version=shown, variant=variant).order_by("position"))
        if shown
        else []
    )
    variants = (
        list(
            SchemeNode.objects.filter(version=shown)
            .exclude(variant="")
            .values_list("variant", flat=True)
            .distinct()
        )
        if shown
        else []
    )
    can_close = Scheme.objects.for_user(user, "period.close").filter(pk=scheme.pk).exists()
    form = OpenPeriodForm()
    if request.method == "POST":
        if not can_close:
            raise PermissionDenied
        form = OpenPeriodForm(request.POST)
        if form.is_valid():
            try:
                period = period_open(
                    scheme=scheme, label=form.cleaned_data["label"].strip(), acting_user=user
                )
            except (KaopingError, ValueError) as exc:
                form.add_error(
                    "label", exc.messages[0] if isinstance(exc, KaopingError) else str(exc)
                )
            else:
                return HttpResponseRedirect(reverse("console:period", args=[period.pk]))
    periods = (
        Period.objects.filter(scheme=scheme).select_related("version").order_by("-start", "cadence")
    )
    return render(
        request,
        "console/scheme.html",
        {
            "scheme": scheme,
            "versions": versions,
            "shown": shown,
            "nodes": nodes,
            "variants": variants,
            "variant": variant,
            "periods": periods,
            "form": form,
            "can_close": can_close,
            "grades": SchemeGrade.objects.filter(version=shown) if shown else [],
        },
    )


@login_required
def period_detail(request, pk: int):
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"), user, "period.view", pk=pk
    )
    results = (
        Result.objects.for_user(user, "period.view")
        .filter(period=period)
        .select_related("subject__region")
        .order_by("rank_group", "rank", "subject_id")
    )
    group = request.GET.get("group")
    if group is not None:
        results = results.filter(rank_group=group)
    groups = list(
        Result.objects.filter(period=period)
        .values_list("rank_group", flat=True)
        .distinct()
        .order_by("rank_group")
    )
    grades = {g.code: g.name for g in SchemeGrade.objects.filter(version=period.version)}
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    for result in page:
        result.points = period.version.to_points(result.total)
        result.grade_name = grades.get(result.grade_code, "")
    can_close = Period.objects.for_user(user, "period.close").filter(pk=period.pk).exists()
    newer = (
        period.scheme.versions.filter(number__gt=period.version.number).order_by("-number").first()
    )
    lists = period_lists(user, period)
    return render(
        request,
        "console/period.html",
        {
            "period": period,
            "page": page,
            "groups": groups,
            "group": group,
            "can_close": can_close,
            "newer": newer,
            "lists": lists,
        },
    )


@require_POST
@login_required
def period_close_view(request, pk: int):
    period = get_scoped_or_404(
        Period.objects.select_related("scheme__region", "version"),
        request.user,
        "period.close",
        pk=pk,
    )
    try:
        counts = period_close(period=period, acting_user=request.user)
    except KaopingError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Closed: %(results)d results.") % counts)
    return HttpResponseRedirect(reverse("console:period", args=[period.pk]))


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
    try:
        if action == "post":
            period_post(period=period, acting_user=request.user)
            messages.success(request, _("Posted. Objections are taken until the window ends."))
        elif action == "finalise":
            period_finalise(period=period, acting_user=request.user)
            messages.success(request, _("Finalised: the results are locked."))
        elif action == "reopen":
            period_reopen(
                period=period, reason=request.POST.get("reason", ""), acting_user=request.user
            )
            messages.success(request, _("Reopened."))
        else:
            raise Http404
    except KaopingError as exc:
        messages.error(request, exc.messages[0])
    return HttpResponseRedirect(reverse("console:period", args=[period.pk]))


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
    try:
        period_rebind(period=period, version=version, acting_user=request.user)
    except KaopingError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            _("Now scored with version %(n)d; close the period to compute its results.")
            % {"n": version.number},
        )
    return HttpResponseRedirect(reverse("console:period", args=[period.pk]))


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
    return render(
        request,
        "console/explain.html",
        {"period": period, "result": result, **explain(period, result)},
    )


@login_required
def subject_detail(request, pk: int):
    user = request.user
    subject = get_scoped_or_404(
        Subject.objects.select_related("region", "household"), user, "entry.view", pk=pk
    )
    results = (
        Result.objects.filter(subject=subject)
        .select_related("period__scheme", "period__version")
        .order_by("period__scheme__code", "-period__start", "period__cadence")
    )
    for result in results:
        result.points = result.period.version.to_points(result.total)
    # Running total of approved points per scheme, oldest first, whichever way the page is ordered.
    running = Window(
        Sum(Case(When(status=EntryStatus.APPROVED, then=F("points")), default=Value(Decimal(0)))),
        partition_by=[F("scheme_id")],
        order_by=[F("occurred_on").asc(), F("id").asc()],
    )
    entries = (
        Entry.objects.filter(subject=subject)
        .select_related("scheme", "created_by", "reviewed_by")
        .annotate(running_total=running)
        .order_by("-occurred_on", "-id")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    annotate_item_names(page)
    schemes = Scheme.objects.for_user(user, "scheme.view").filter(subject_kind=subject.kind)
    can_record = Subject.objects.for_user(user, "entry.record").filter(pk=pk).exists()
    can_reverse = Subject.objects.for_user(user, "entry.review").filter(pk=pk).exists()
    return render(
        request,
        "console/subject.html",
        {
            "subject": subject,
            "results": results,
            "page": page,
            "schemes": schemes,
            "can_record": can_record,
            "can_reverse": can_reverse,
            "history": subject_history(subject),
        },
    )


class EntryForm(forms.Form):
    item_code = forms.ChoiceField(label=gettext_lazy("Item"))
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"), initial=1, min_value=0, decimal_places=3, max_digits=12
    )
    label = forms.ChoiceField(label=gettext_lazy("Rating"), required=False)
    occurred_on = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, items, labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item_code"].choices = items
        self.fields["label"].choices = [("", "—"), *labels]


@login_required
def entry_new(request, subject_id: int, scheme_code: str):
    user = request.user
    subject = get_scoped_or_404(
        Subject.objects.select_related("region"), user, "entry.record", pk=subject_id
    )
    scheme = get_scoped_or_404(
        Scheme.objects.filter(subject_kind=subject.kind), user, "scheme.view", code=scheme_code
    )
    version = scheme.latest_version()
    nodes = list(scorable_items(version, subject).order_by("position"))
    parents = {
        n.code: n.name
        for n in SchemeNode.objects.filter(
            version=version, variant=subject_variant(version, subject), is_item=False
        )
    }
    items = [
        (
            n.code,
            f"{parents.get(n.parent_code, '')} · {n.name}" if n.parent_code in parents else n.name,
        )
        for n in nodes
    ]
    labels = sorted(
        {
            (lv.label, lv.label)
            for lv in version.levels.filter(variant=subject_variant(version, subject))
        }
    )
    if request.method == "POST":
        form = EntryForm(request.POST, items=items, labels=labels)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry_record(
                    scheme=scheme,
                    subject=subject,
                    item_code=data["item_code"],
                    quantity=data["quantity"] or 1,
                    label=data["label"],
                    occurred_on=data["occurred_on"],
                    note=data["note"],
                    acting_user=user,
                    idempotency_key=data["idempotency_key"] or None,
                )
            except KaopingError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Recorded."))
                return HttpResponseRedirect(reverse("console:subject", args=[subject.pk]))
    else:
        import uuid

        form = EntryForm(
            items=items,
            labels=labels,
            initial={
                "occurred_on": timezone.localdate(),
                "idempotency_key": uuid.uuid4().hex,
                "quantity": 1,
            },
        )
    return render(
        request,
        "console/entry_new.html",
        {"subject": subject, "scheme": scheme, "form": form, "today": date.today()},
    )
