"""The role × view × object matrix: every URL pattern, every persona, an object in and out of scope.

`ROUTES` says, for each pattern with arguments, which model its object is and how the arguments
come from one row; a pattern missing here fails the test, so a new page cannot skip the matrix.
Out of scope is computed from the persona's own role assignments, not from the code under test:
the widest area any of its roles covers (a region subtree, a department's villages, one
household), and for county-wide things (schemes, periods) the region's ancestors too.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver

from kaoping.core.fields import ancestor_codes, subtree_q


@dataclass(frozen=True)
class Target:
    model: str  # "app.Model"
    kwargs: Callable[[models.Model], dict]
    public: bool = False  # anyone may open it (public postings, a store's public page)
    where: tuple = ()  # (lookup, value) pairs the row must also meet


def pk(row):
    return {"pk": row.pk}


ROUTES: dict[str, Target | None] = {
    # None: the pattern takes arguments that name no scoped object; covered elsewhere.
    "accounts:active": Target(
        "accounts.RoleAssignment", lambda r: {"pk": r.user_id}, where=(("region__isnull", False),)
    ),
    "accounts:reset": Target(
        "accounts.RoleAssignment", lambda r: {"pk": r.user_id}, where=(("region__isnull", False),)
    ),
    "api:subject_entries": Target("people.Subject", lambda r: {"subject_id": r.pk}),
    "api:period_results": Target("periods.Period", lambda r: {"period_id": r.pk}),
    "api:metrics_endpoint": Target("periods.Period", lambda r: {"period_id": r.pk}),
    "portal:posting": Target("periods.Period", pk, public=True),
    "portal:breakdown": Target(
        "periods.Result", lambda r: {"pk": r.period_id, "subject_id": r.subject_id}, public=True
    ),
    "portal:objection": Target("periods.Period", pk, public=True),
    "portal:poster": Target("periods.Period", pk, public=True),
    "portal:export": Target("periods.Period", pk, public=True),
    "portal:objection_detail": Target("publishing.Objection", pk),
    "portal:objection_reclose": Target("publishing.Objection", pk),
    "portal:period_export": Target("periods.Period", pk),
    "store:my_request_cancel": Target("store.Redemption", pk),
    "store:keeper_card": Target("store.Account", lambda r: {"number": r.card_number}),
    "store:keeper_redeem": Target("store.Account", lambda r: {"number": r.card_number}),
    "store:complete": Target("store.Redemption", pk),
    "store:cancel": Target("store.Redemption", pk),
    "store:store": Target("store.Store", pk),
    "store:windows": Target("store.Store", pk),
    "store:cards": Target("store.Store", pk),
    "store:goods_new": Target("store.Store", lambda r: {"store_pk": r.pk}),
    "store:goods_edit": Target("store.Goods", lambda r: {"store_pk": r.store_id, "pk": r.pk}),
    "store:goods_stock": Target("store.Goods", pk),
    "store:account_card": Target("store.Account", pk),
    "store:public": Target("store.Store", pk, public=True),
    "store:goods_photo": Target("store.Goods", pk, public=True),
    "outcomes:period": Target("periods.Period", pk),
    "outcomes:interview": Target("outcomes.Interview", pk),
    "outcomes:pledge": Target("outcomes.Pledge", pk),
    "outcomes:pledge_accept": Target("outcomes.Pledge", pk),
    "outcomes:pledge_item_done": Target("outcomes.PledgeItem", pk),
    "outcomes:share_held": Target("outcomes.ExperienceShare", pk),
    "outcomes:pairing": Target("outcomes.Pairing", pk),
    "outcomes:key_village": Target("outcomes.KeyVillage", pk),
    "people:household": Target("people.Household", pk),
    "people:person_edit": Target("people.Person", pk),
    "ledger:entry_reverse": Target("ledger.Entry", pk),
    "ledger:entry_evidence": Target("ledger.Entry", pk),
    "ledger:grid_record": Target(
        "people.Household", lambda r: {"code": r.region.code, "scheme_code": "household-points"}
    ),
    "ledger:entry_new": Target(
        "people.Subject", lambda r: {"subject_id": r.pk, "scheme_code": _scheme_of(r)}
    ),
    "ledger:import_template": None,  # a scheme code: schemes are county-wide
    "ledger:import_job": Target("ledger.ImportJob", pk),
    "ledger:import_status": Target("ledger.ImportJob", pk),
    "ledger:import_commit": Target("ledger.ImportJob", pk),
    "ledger:evidence_file": Target(
        "ledger.Entry",
        lambda r: {"pk": r.evidence.order_by("pk").first().pk},
        where=(("evidence__isnull", False),),
    ),
    "periods:scheme": None,  # a scheme code: schemes are county-wide
    "periods:detail": Target("periods.Period", pk),
    "periods:close": Target("periods.Period", pk),
    "periods:rebind": Target("periods.Period", pk),
    "periods:transition": Target("periods.Period", lambda r: {"pk": r.pk, "action": "post"}),
    "periods:explain": Target(
        "periods.Result", lambda r: {"pk": r.period_id, "subject_id": r.subject_id}
    ),
    "periods:subject": Target("people.Subject", pk),
    "console:region": Target("regions.Region", lambda r: {"code": r.code}),
}

_SCHEME_BY_KIND = {
    "village": "liubi-liuzheng",
    "household": "household-points",
    "party_member": "party-member-points",
    "team": "qianfen-team",
    "cadre": "qianfen-cadre",
}


def _scheme_of(subject) -> str:
    return _SCHEME_BY_KIND[subject.kind]


def patterns() -> dict[str, str]:
    """Every named URL pattern outside the Django admin: name -> route."""
    found: dict[str, str] = {}

    def walk(resolver, prefix, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith("admin/"):
                    continue
                inner = entry.namespace or namespace
                if entry.namespace and namespace:
                    inner = f"{namespace}:{entry.namespace}"
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found[name] = prefix + str(entry.pattern)

    walk(get_resolver(), "", "")
    return found


def area_condition(model, user) -> models.Q:
    """Everything any role of `user` covers, for rows of `model` (see the module's docstring)."""
    region_lookup = model.scope_region
    household_lookup = getattr(model, "scope_household", None)
    condition = models.Q(pk__in=[])
    for assignment in user.role_assignments.select_related("region", "department"):
        if assignment.household_id and household_lookup:
            condition |= models.Q(**{household_lookup: assignment.household_id})
            continue
        if assignment.department_id:
            codes = list(assignment.department.villages.values_list("code", flat=True))
        else:
            codes = [assignment.region.code]
        for code in codes:
            condition |= subtree_q(region_lookup, code)
            if getattr(model, "scope_includes_ancestors", False):
                condition |= models.Q(**{f"{region_lookup}__in": ancestor_codes(code)})
    return condition


def rows_in_and_out(target: Target, user):
    model = apps.get_model(target.model)
    condition = area_condition(model, user)
    rows = model.objects.filter(**dict(target.where)).distinct().order_by("pk")
    inside = rows.filter(condition).first()
    outside = rows.exclude(condition).first()
    return inside, outside


WATCHED_APPS = ("accounts", "people", "ledger", "periods", "outcomes", "publishing", "store")


def fingerprint(row) -> dict:
    """A row's stored values and the size of every table: what a refused write must not touch."""
    fresh = type(row).objects.filter(pk=row.pk).first()
    tables = {
        model._meta.label: model.objects.count()
        for app in WATCHED_APPS
        for model in apps.get_app_config(app).get_models()
    }
    return {"row": model_to_dict(fresh) if fresh else None, "tables": tables}
