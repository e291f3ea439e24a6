"""Console pages of consequences (结果运用): thin shells over selectors and services.

Reads need `outcome.view` in the subject's region; township staff and county admins arrange
(`outcome.manage`); a village secretary writes and ticks off the village's own pledge items
(`outcome.pledge`). Out of scope is 404, in scope but not allowed 403.
"""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import action_submit, form_submit
from kaoping.people.models import CadrePost, SubjectKind
from kaoping.periods.models import Period
from kaoping.schemes.selectors import scheme_list
from kaoping.schemes.spec import number_text

from . import selectors
from .decisions import decision_list
from .forms import (
    DesignateForm,
    ExchangeForm,
    InterviewForm,
    KeyVillageForm,
    LeaveForm,
    PledgeItemForm,
)
from .models import (
    ExperienceShare,
    Interview,
    KeyVillage,
    Pairing,
    PayoutSheet,
    Pledge,
    PledgeItem,
    yuan,
)
from .payout_sheets import XLSX, payout_workbook
from .services import (
    exchange_record,
    interview_record,
    key_village_designate,
    key_village_leave,
    key_village_update,
    pledge_accept,
    pledge_item_add,
    pledge_item_done,
    share_mark_held,
)

VIEW, MANAGE, PLEDGE = "outcome.view", "outcome.manage", "outcome.pledge"


def _require_view(user) -> None:
    if not user_can(user, VIEW):
        raise PermissionDenied


@login_required
def index(request):
    """Alerts (overdue pledge items, pairing months short of exchanges), key villages, periods."""
    user = request.user
    _require_view(user)
    today = timezone.localdate()
    periods = selectors.period_list_with_consequences(user=user)
    return render(
        request,
        "outcomes/index.html",
        {
            "periods": periods,
            "overdue": list(selectors.pledge_items_overdue(user, today=today)[:100]),
            "interviews_open": selectors.interviews_open(user, today=today),
            "rectifications_open": selectors.rectifications_open(user, today=today),
            "short_months": selectors.pairing_months_below(user, today=today),
            "key_village_count": selectors.key_village_count(user=user, active=True),
            "decisions_open": decision_list(user, pending=True).count(),
        },
    )


@login_required
def badge(request):
    """The alert count beside the menu link, loaded after the page (no cost to other pages)."""
    user = request.user
    count = selectors.alerts_count(user) if user_can(user, VIEW) else 0
    if not count:
        return HttpResponse("")
    title = _("%(n)d alerts: overdue pledge items and pairing months short of exchanges") % {
        "n": count
    }
    return HttpResponse(format_html('<span class="tag badge" title="{}">{}</span>', title, count))


@login_required
def period_overview(request, pk: int):
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme", "version"), user, "period.view", pk=pk
    )
    _require_view(user)
    return render(
        request,
        "outcomes/period.html",
        {
            "period": period,
            "can_manage": user_can(user, MANAGE),
            "decisions": list(decision_list(user, period=period)),
            **selectors.period_consequences(user, period),
        },
    )


def _payout_sheet(request, pk: int):
    """The period (404 out of scope, 403 without `outcome.view`), its sheet and the rows the
    user may see; the sheet is None when the close paid nobody by post."""
    user = request.user
    period = get_scoped_or_404(
        Period.objects.select_related("scheme", "version"), user, "period.view", pk=pk
    )
    _require_view(user)
    sheet = PayoutSheet.objects.filter(period=period).first()
    rows = selectors.payout_rows(user, sheet) if sheet is not None else []
    return period, sheet, rows


def _payout_basis(sheet: PayoutSheet | None, period: Period) -> list[tuple[str, object]]:
    """How the sheet was paid, in words, for the page's header and the printed sheet."""
    if sheet is None:
        return []
    posts = dict(CadrePost.choices)
    bases = "、".join(
        _("%(post)s %(base)s yuan") % {"post": posts.get(post, post), "base": yuan(fen)}
        for post, fen in sheet.by_post.items()
    )
    denominator = number_text(period.version.to_points(sheet.denominator))
    cap = (
        _("capped at %(cap)s%%") % {"cap": number_text(sheet.cap_rate)}
        if sheet.capped
        else _("not capped")
    )
    return [
        (_("score rate"), _("total ÷ %(n)s, %(cap)s") % {"n": denominator, "cap": cap}),
        (_("base by post"), bases),
    ]


PAYOUT_PAGE_SIZE = 50


@require_GET
@login_required
def payout_sheet(request, pk: int):
    """The period's pay by post and 得分率: one line per cadre, with the rule it was paid by."""
    period, sheet, rows = _payout_sheet(request, pk)
    # A county's sheet has a line per cadre (a thousand and more): the page shows it a page at a
    # time with the total of every line; the Excel and PDF sheets hold them all.
    page = Paginator(rows, PAYOUT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outcomes/payouts.html",
        {
            "period": period,
            "sheet": sheet,
            "rows": page.object_list,
            "page": page,
            "lines": len(rows),
            "basis": _payout_basis(sheet, period),
            "shown_total": yuan(sum(row.line.amount_fen for row in rows)),
        },
    )


def _payout_filename(period: Period, suffix: str) -> str:
    return f"payouts-{period.scheme.code}-{period.label}.{suffix}"


@require_GET
@login_required
def payout_sheet_xlsx(request, pk: int):
    period, sheet, rows = _payout_sheet(request, pk)
    data = payout_workbook(period, rows, _payout_basis(sheet, period))
    response = HttpResponse(data, content_type=XLSX)
    name = quote(_payout_filename(period, "xlsx"))
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


@require_GET
@login_required
def payout_sheet_pdf(request, pk: int):
    from weasyprint import HTML

    period, sheet, rows = _payout_sheet(request, pk)
    html = render_to_string(
        "outcomes/payouts_pdf.html",
        {
            "period": period,
            "sheet": sheet,
            "rows": rows,
            "basis": _payout_basis(sheet, period),
            "shown_total": yuan(sum(row.line.amount_fen for row in rows)),
            "printed_on": timezone.localdate(),
        },
        request=request,
    )
    data = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(data, content_type="application/pdf")
    name = quote(_payout_filename(period, "pdf"))
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


@login_required
def interview_detail(request, pk: int):
    user = request.user
    interview = get_scoped_or_404(
        Interview.objects.select_related("subject__region", "period__scheme", "recorded_by"),
        user,
        VIEW,
        pk=pk,
    )
    can_manage = may(user, MANAGE, interview)
    form = InterviewForm(
        initial={
            "scheduled_on": interview.scheduled_on,
            "held_on": interview.held_on,
            "interviewer": interview.interviewer,
            "minutes": interview.minutes,
        }
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = InterviewForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: interview_record(
                interview=interview,
                scheduled_on=data["scheduled_on"],
                held_on=data["held_on"],
                interviewer=data["interviewer"],
                minutes=data["minutes"],
                acting_user=user,
            ),
            redirect_to=reverse("outcomes:interview", args=[interview.pk]),
            message=_("Saved."),
        )
        if done:
            return done
    return render(
        request,
        "outcomes/interview.html",
        {"interview": interview, "form": form, "can_manage": can_manage},
    )


@login_required
def pledge_detail(request, pk: int):
    user = request.user
    pledge = get_scoped_or_404(
        Pledge.objects.select_related("subject__region", "period__scheme", "accepted_by"),
        user,
        VIEW,
        pk=pk,
    )
    can_write = may(user, PLEDGE, pledge)
    form = PledgeItemForm()
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        form = PledgeItemForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: pledge_item_add(
                pledge=pledge,
                text=data["text"],
                owner=data["owner"],
                deadline=data["deadline"],
                acting_user=user,
            ),
            redirect_to=reverse("outcomes:pledge", args=[pledge.pk]),
            message=_("Item added."),
        )
        if done:
            return done
    items = selectors.pledge_item_list(user=user, pledge=pledge)
    return render(
        request,
        "outcomes/pledge.html",
        {
            "pledge": pledge,
            "items": items,
            "done": sum(1 for i in items if i.status == "done"),
            "form": form,
            "can_write": can_write and pledge.status == "open",
            "can_accept": pledge.status == "open" and may(user, MANAGE, pledge),
            "today": timezone.localdate(),
        },
    )


@require_POST
@login_required
def pledge_item_done_view(request, pk: int):
    user = request.user
    item = get_scoped_or_404(PledgeItem.objects.select_related("pledge"), user, PLEDGE, pk=pk)
    return action_submit(
        request,
        lambda: pledge_item_done(item=item, acting_user=user),
        redirect_to=reverse("outcomes:pledge", args=[item.pledge_id]),
        success=_("Marked done."),
    )


@require_POST
@login_required
def pledge_accept_view(request, pk: int):
    user = request.user
    pledge = get_scoped_or_404(Pledge.objects.all(), user, MANAGE, pk=pk)
    return action_submit(
        request,
        lambda: pledge_accept(pledge=pledge, acting_user=user),
        redirect_to=reverse("outcomes:pledge", args=[pledge.pk]),
        success=_("Accepted: the listing is resolved and no longer carried over."),
    )


@require_POST
@login_required
def share_held_view(request, pk: int):
    user = request.user
    share = get_scoped_or_404(ExperienceShare.objects.all(), user, MANAGE, pk=pk)
    return action_submit(
        request,
        lambda: share_mark_held(share=share, topic=request.POST.get("topic", ""), acting_user=user),
        redirect_to=reverse("outcomes:period", args=[share.period_id]) + "#shares",
        success=_("Recorded as shared."),
    )


@login_required
def pairing_detail(request, pk: int):
    user = request.user
    pairing = get_scoped_or_404(
        Pairing.objects.select_related("strong__region", "weak__region", "period__scheme"),
        user,
        VIEW,
        pk=pk,
    )
    can_manage = may(user, MANAGE, pairing)
    today = timezone.localdate()
    form = ExchangeForm(initial={"on": today, "kind": "offline"})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = ExchangeForm(request.POST)
        done = form_submit(
            request,
            form,
            lambda data: exchange_record(
                pairing=pairing,
                on=data["on"],
                kind=data["kind"],
                note=data["note"],
                acting_user=user,
            ),
            redirect_to=reverse("outcomes:pairing", args=[pairing.pk]),
            message=_("Exchange logged."),
        )
        if done:
            return done
    return render(
        request,
        "outcomes/pairing.html",
        {
            "pairing": pairing,
            "exchanges": selectors.exchange_list(user=user, pairing=pairing),
            "checks": selectors.pairing_months([pairing], today=today)[pairing.pk],
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
def key_village_list(request):
    user = request.user
    _require_view(user)
    can_manage = user_can(user, MANAGE)
    subjects = selectors.subject_list_designatable(user=user)
    schemes = scheme_list(user=user, subject_kind=SubjectKind.VILLAGE)
    form = DesignateForm(subjects=subjects, schemes=schemes)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = DesignateForm(request.POST, subjects=subjects, schemes=schemes)
        done = form_submit(
            request,
            form,
            lambda data: key_village_designate(
                subject=data["subject"],
                reason=data["reason"],
                support_team=data["support_team"],
                exit_criteria=data["exit_criteria"],
                scheme=data["scheme"],
                acting_user=user,
            ),
            redirect_to=lambda kv: reverse("outcomes:key_village", args=[kv.pk]),
            message=_("Designated as a key village."),
        )
        if done:
            return done
    rows = list(selectors.key_villages(user))
    return render(
        request,
        "outcomes/key_villages.html",
        {
            "active": [kv for kv in rows if kv.left_on is None],
            "left": [kv for kv in rows if kv.left_on is not None],
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
def key_village_detail(request, pk: int):
    user = request.user
    kv = get_scoped_or_404(
        KeyVillage.objects.select_related(
            "subject__region", "scheme", "period__version", "designated_by", "left_period"
        ),
        user,
        VIEW,
        pk=pk,
    )
    can_manage = may(user, MANAGE, kv)
    form = KeyVillageForm(
        initial={"support_team": kv.support_team, "exit_criteria": kv.exit_criteria}
    )
    leave = LeaveForm(initial={"left_on": timezone.localdate()})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        back = reverse("outcomes:key_village", args=[kv.pk])
        if request.POST.get("action") == "leave":
            leave = LeaveForm(request.POST)
            done = form_submit(
                request,
                leave,
                lambda data: key_village_leave(
                    key_village=kv, left_on=data["left_on"], reason=data["reason"], acting_user=user
                ),
                redirect_to=back,
                message=_("Exit recorded."),
            )
        else:
            form = KeyVillageForm(request.POST)
            done = form_submit(
                request,
                form,
                lambda data: key_village_update(
                    key_village=kv,
                    support_team=data["support_team"],
                    exit_criteria=data["exit_criteria"],
                    note=data["note"],
                    acting_user=user,
                ),
                redirect_to=back,
                message=_("Saved."),
            )
        if done:
            return done
    exit_rule, exit_lists = None, ""
    version = (
        kv.period.version if kv.period_id else kv.scheme.latest_version() if kv.scheme_id else None
    )
    if version is not None:
        spec = version.spec()
        rules = spec.consequences
        exit_rule = rules.key_villages.exit if rules and rules.key_villages else None
        if exit_rule is not None:
            names = {rule.code: rule.name for rule in spec.ranking.lists}
            codes = exit_rule.lists or (kv.list_code,)
            exit_lists = "、".join(names.get(code, code) for code in codes)
    return render(
        request,
        "outcomes/key_village.html",
        {
            "kv": kv,
            "events": selectors.key_village_event_list(user=user, key_village=kv),
            "form": form,
            "leave": leave,
            "can_manage": can_manage and kv.left_on is None,
            "exit_rule": exit_rule,
            "exit_lists": exit_lists,
        },
    )
