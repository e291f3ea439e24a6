"""The board (云端作战图): a round's indicators under 三色管理, drilled county → township →
village by `?region=`; aggregates only, never a person. The numbers are `election.board`'s."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import RedirectView

from kaoping.accounts.models import Role
from kaoping.accounts.permissions import ROLE_ACTIONS, roles_of, scopes_for, user_can
from kaoping.accounts.scoping import is_unrestricted
from kaoping.core.fields import ANCESTOR_WIDTHS
from kaoping.regions.models import Region

from .access import department_files, departments_of
from .board import (
    AMBER,
    COUNT_INDICATORS,
    GREEN,
    INDICATOR_LABELS,
    RED,
    board,
    open_rounds,
)
from .spec import INDICATORS, spec_of

_ORDER = {RED: 0, AMBER: 1, GREEN: 2}
_LEVELS = ("county", "township", "village")


def home_code(user, round_) -> str:
    """Where the board starts for `user` in `round_`: the narrowest region that holds every
    place they may see (the county for a county admin, or for a department whose villages lie in
    several townships; the township for its staff). A department's villages are those of
    `access.department_files` (covered or paired), the same the board counts."""
    county = round_.county
    if is_unrestricted(user):
        return county.code
    prefixes = [s.prefix for s in scopes_for(user, "election.view")]
    departments = departments_of(user)
    if departments:
        prefixes += department_files(round_, *departments).values_list("village__code", flat=True)
    if not prefixes or any(county.code.startswith(p) for p in prefixes):
        return county.code
    inside = [p for p in prefixes if p.startswith(county.code)] or [county.code]
    common = inside[0]
    for prefix in inside[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    # Snap down to a level's width (a department's villages may share part of a code).
    width = max(w for w in ANCESTOR_WIDTHS if w <= len(common))
    return common[:width] if width > len(county.code) else county.code


def department_area(user) -> list:
    """The departments whose villages make up `user`'s whole board (a department scorer with no
    region of their own), else []: their board's total is the departments' villages, not the
    region's."""
    if is_unrestricted(user):
        return []
    regional = [
        role
        for role in roles_of(user)
        if role != Role.DEPARTMENT_SCORER and "election.view" in ROLE_ACTIONS.get(role, ())
    ]
    return [] if regional else departments_of(user)


def total_label(user, root: Region, region: Region) -> str:
    """The name of the board's total row: the region's, or for a department scorer the
    department's villages ("区委组织部联系的村社", then the region below the top)."""
    departments = department_area(user)
    if not departments:
        return region.name
    label = _("Villages of %(department)s") % {"department": "、".join(d.name for d in departments)}
    return label if region.code == root.code else f"{label} · {region.name}"


def _choose_round(user, params):
    rounds = list(open_rounds(user))
    if not rounds:
        return rounds, None
    wanted = (params.get("round") or "").strip()
    if wanted:
        chosen = next((r for r in rounds if str(r.pk) == wanted), None)
        if chosen is None:
            raise Http404
        return rounds, chosen
    return rounds, rounds[0]


def _choose_region(user, round_, params) -> tuple[Region, Region]:
    """(the user's top region on the board, the region shown); 404 outside the user's area."""
    root_code = home_code(user, round_)
    code = (params.get("region") or "").strip()[:20] or root_code
    if not code.startswith(root_code):
        raise Http404
    try:
        region = Region.objects.select_related("parent").get(code=code)
    except Region.DoesNotExist:
        raise Http404 from None
    if region.level not in _LEVELS:
        raise Http404
    root = region if region.code == root_code else Region.objects.get(code=root_code)
    return root, region


def _crumbs(root: Region, region: Region) -> list[Region]:
    """The regions from the user's top region down to the one above `region`."""
    codes = [c for c in (region.code[:w] for w in ANCESTOR_WIDTHS) if len(c) < len(region.code)]
    codes = [c for c in codes if c.startswith(root.code)]
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def _cell(ind) -> dict:
    return {
        "code": ind.code,
        "label": INDICATOR_LABELS[ind.code],
        "value": ind.value,
        "colour": ind.colour,
        "count": ind.code in COUNT_INDICATORS,
        "numerator": ind.numerator,
        "denominator": ind.denominator,
    }


def _chart(region, rows, total) -> dict:
    """The charts' data (board.js): villages by colour per township (or, within a township,
    per indicator), and stage progress per row (or the village's own indicators)."""
    labels = {
        "red": _("red"),
        "amber": _("amber"),
        "green": _("green"),
        "none": _("not yet"),
        "villages": _("villages"),
        "stage_progress": str(INDICATOR_LABELS["stage_progress"]),
    }
    data: dict = {"labels": labels}
    if region.level == "county":
        data["rag"] = {
            "groups": [r.region.name for r in rows],
            "red": [r.red_villages for r in rows],
            "amber": [r.amber_villages for r in rows],
            "green": [r.green_villages for r in rows],
        }
    elif region.level == "township":
        per = {c: {"red": 0, "amber": 0, "green": 0} for c in INDICATORS}
        for r in rows:
            for code, ind in r.indicators.items():
                if ind.colour in per[code]:
                    per[code][ind.colour] += 1
        data["rag"] = {
            "groups": [str(INDICATOR_LABELS[c]) for c in INDICATORS],
            **{k: [per[c][k] for c in INDICATORS] for k in ("red", "amber", "green")},
        }
    if rows:
        data["progress"] = {
            "groups": [r.region.name for r in rows],
            "values": [_number(r.indicators["stage_progress"].value) for r in rows],
            "colours": [r.indicators["stage_progress"].colour for r in rows],
        }
    else:
        shown = [c for c in INDICATORS if c not in COUNT_INDICATORS]
        data["progress"] = {
            "groups": [str(INDICATOR_LABELS[c]) for c in shown],
            "values": [_number(total.indicators[c].value) for c in shown],
            "colours": [total.indicators[c].colour for c in shown],
            "horizontal": True,
        }
    return data


def _number(value):
    return None if value is None else float(value)


@login_required
def board_page(request):
    """The board of the current open round in the user's area (a chooser when several)."""
    user = request.user
    if not user_can(user, "election.view"):
        raise PermissionDenied
    rounds, round_ = _choose_round(user, request.GET)
    context: dict = {
        "rounds": rounds,
        "round": round_,
        "may_manage": user_can(user, "election.manage"),
    }
    if round_ is None:
        return render(request, "election/board.html", context)
    root, region = _choose_region(user, round_, request.GET)
    today = timezone.localdate()
    rows, total = board(round_, user=user, region=region, today=today)
    if total.villages == 0 and region.code != root.code:
        raise Http404  # below the user's top, a place with no file of theirs is not theirs
    order = request.GET.get("order", "")
    if order != "code":
        order = "colour"
        rows = sorted(rows, key=lambda r: (_ORDER.get(r.colour, 3), r.region.code))
    context.update(
        {
            "today": today,
            "root": root,
            "region": region,
            "crumbs": _crumbs(root, region),
            "order": order,
            "rows": [
                {"row": r, "cells": [_cell(r.indicators[c]) for c in INDICATORS]} for r in rows
            ],
            "total": total,
            "total_label": total_label(user, root, region),
            "tiles": [_cell(total.indicators[c]) for c in INDICATORS],
            "labels": [INDICATOR_LABELS[c] for c in INDICATORS],
            "child_level": {"county": "township", "township": "village"}.get(region.level),
            "stages": spec_of(round_).stages,
            "chart": _chart(region, rows, total),
        }
    )
    return render(request, "election/board.html", context)


urls = [
    # /election/ is where a user would look first: the board.
    path("election/", RedirectView.as_view(pattern_name="election:board"), name="index"),
    path("election/board/", board_page, name="board"),
]
