"""The pages of 一联二亮: members' services to their linked households with the month's coverage
(`services`), and members' public pledges (`pledges`). For the staff who keep these records
(`evaluation.service`: the village's secretary and committee, the township, the county); they see
their members' full names, households by number with the head's name masked."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.views import form_flash_errors, form_submit
from kaoping.people.models import Household
from kaoping.schemes.calendar import label_for, period_dates

from .forms_members import KeepForm, PledgeForm, ServiceForm
from .linking import Coverage, household_label, link_service_record
from .member_selectors import (
    MEMBER_ORDER,
    SERVICE_ACTION,
    linked_households,
    members_of_village,
    pledges_by_member,
    recent_services,
    service_members,
    villages_of,
)
from .models import MemberPledge
from .pledges import PLEDGES_PER_YEAR, pledge_add, pledge_keep, pledge_years


def _require(user) -> None:
    if not user_can(user, SERVICE_ACTION):
        raise PermissionDenied


def _month(value: str | None, today: date) -> tuple[str, date, date]:
    """The month asked for with ?month=2026-11 (this month when absent, wrong or to come)."""
    current = label_for("month", today)
    label = value if value and len(value) == 7 and value <= current else current
    try:
        start, end = period_dates("month", label)
    except ValueError:
        label = current
        start, end = period_dates("month", label)
    return label, start, end


def _month_name(label: str) -> str:
    year, month = label.split("-")
    return _("%(year)d-%(month)02d") % {"year": int(year), "month": int(month)}


def _chosen_village(villages, code: str | None) -> str:
    """The village asked for, if it is one of the user's; the only one when there is one."""
    codes = [v.code for v in villages]
    if code in codes:
        return code
    return codes[0] if len(codes) == 1 else ""


def _query(**params) -> str:
    kept = {k: v for k, v in params.items() if v not in ("", None)}
    return f"?{urlencode(kept)}" if kept else ""


# --- services (一联) -----------------------------------------------------------------------------


def _services_page(request, *, form: ServiceForm | None = None, status: int = 200):
    user = request.user
    today = timezone.localdate()
    month, start, end = _month(request.GET.get("month"), today)
    villages = villages_of(user, start=start, end=end)
    member = None
    member_id = (form.data.get("member") if form is not None else None) or request.GET.get("member")
    if member_id and str(member_id).isdigit():
        member = (
            service_members(user).select_related("person", "region").filter(pk=member_id).first()
        )
    village = _chosen_village(
        villages, member.region.code if member else request.GET.get("village")
    )
    rows = members_of_village(user, village, start=start, end=end) if village else []
    members = service_members(user).filter(region__code=village)
    if form is None and member is not None:
        form = ServiceForm(
            members=members,
            households=linked_households(member),
            initial={"member": member.pk},
        )
    previous = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
    following = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    total = Coverage(
        linked=sum(v.coverage.linked for v in villages),
        served=sum(v.coverage.served for v in villages),
    )
    return render(
        request,
        "evaluations/services.html",
        {
            "month": month,
            "month_name": _month_name(month),
            "previous": label_for("month", previous),
            "previous_name": _month_name(label_for("month", previous)),
            "next": label_for("month", following) if following <= today else "",
            "next_name": _month_name(label_for("month", following)),
            "villages": villages,
            "total": total,
            "village": village,
            "village_name": next((v.name for v in villages if v.code == village), ""),
            "rows": rows,
            "member": member,
            "form": form,
            "services": recent_services(user, village=village),
        },
        status=status,
    )


@login_required
def services(request):
    _require(request.user)
    return _services_page(request)


@login_required
@require_POST
def service_record(request):
    user = request.user
    _require(user)
    members = service_members(user).select_related("person", "region")
    posted = request.POST.get("member", "")
    member = members.filter(pk=posted).first() if posted.isdigit() else None
    form = ServiceForm(
        request.POST,
        members=members,
        households=linked_households(member) if member else [],
    )

    def call(data):
        return link_service_record(
            member=data["member"],
            household=Household.objects.get(pk=data["household"]),
            served_on=data["served_on"],
            note=data["note"],
            acting_user=user,
        )

    done = form_submit(
        request,
        form,
        call,
        redirect_to=lambda s: (
            reverse("evaluations:services")
            + _query(village=s.member.region.code, member=s.member_id)
        ),
        message=lambda s: (
            _("Recorded: %(member)s served %(household)s.")
            % {"member": s.member.person.name, "household": household_label(s.household)}
        ),
    )
    return done or _services_page(request, form=form, status=400)


# --- pledges (二亮) ------------------------------------------------------------------------------


def _pledges_page(request, *, form: PledgeForm | None = None, status: int = 200):
    user = request.user
    today = timezone.localdate()
    years = pledge_years(today)
    asked = request.GET.get("year", "")
    year = int(asked) if asked.isdigit() and int(asked) in years else today.year
    month_start, month_end = period_dates("month", label_for("month", today))
    villages = villages_of(user, start=month_start, end=month_end)
    posted_member = form.data.get("member") if form is not None else None
    code = request.GET.get("village")
    if posted_member and str(posted_member).isdigit():
        found = service_members(user).filter(pk=posted_member).values_list("region__code")
        code = next((c for (c,) in found), code)
    village = _chosen_village(villages, code)
    members = list(
        service_members(user)
        .filter(region__code=village)
        .select_related("person")
        .order_by(*MEMBER_ORDER)
    )
    pledges = pledges_by_member(members, year)
    for member in members:
        member.pledges = pledges.get(member.pk, [])
        member.kept = sum(1 for p in member.pledges if p.kept_on)
        member.full = len(member.pledges) >= PLEDGES_PER_YEAR
        for pledge in member.pledges:
            if pledge.kept_on is None:
                pledge.form = KeepForm(auto_id=f"id_keep{pledge.pk}-%s")
    if form is None:
        form = PledgeForm(
            members=service_members(user)
            .filter(region__code=village)
            .select_related("person")
            .order_by(*MEMBER_ORDER),
            initial={"year": year},
        )
    return render(
        request,
        "evaluations/pledges.html",
        {
            "year": year,
            "years": list(years),
            "villages": villages,
            "village": village,
            "village_name": next((v.name for v in villages if v.code == village), ""),
            "members": members,
            "form": form if village else None,
            "most": PLEDGES_PER_YEAR,
        },
        status=status,
    )


@login_required
def pledges(request):
    _require(request.user)
    return _pledges_page(request)


@login_required
@require_POST
def pledge_add_view(request):
    user = request.user
    _require(user)
    form = PledgeForm(
        request.POST, members=service_members(user).select_related("person", "region")
    )
    done = form_submit(
        request,
        form,
        lambda d: pledge_add(member=d["member"], year=d["year"], text=d["text"], acting_user=user),
        redirect_to=lambda p: (
            reverse("evaluations:pledges") + _query(village=p.member.region.code, year=p.year)
        ),
        message=lambda p: _("Pledge of %(member)s recorded.") % {"member": p.member.person.name},
    )
    return done or _pledges_page(request, form=form, status=400)


@login_required
@require_POST
def pledge_keep_view(request, pk: int):
    user = request.user
    pledge = get_scoped_or_404(
        MemberPledge.objects.select_related("member__person", "member__region"),
        user,
        SERVICE_ACTION,
        pk=pk,
    )
    back = reverse("evaluations:pledges") + _query(
        village=pledge.member.region.code, year=pledge.year
    )
    form = KeepForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: pledge_keep(
            pledge=pledge, kept_on=d["kept_on"], note=d["note"], acting_user=user
        ),
        redirect_to=back,
        message=_("Marked kept: %(pledge)s") % {"pledge": pledge.text},
    )
    if done:
        return done
    form_flash_errors(request, form)
    return HttpResponseRedirect(back)
