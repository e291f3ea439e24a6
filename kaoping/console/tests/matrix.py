"""The role × view × object matrix: every URL pattern, every persona, an object in and out of scope.

`ROUTES` says, for each pattern with arguments, which model its object is and how the arguments
come from one row; a pattern missing here fails the test, so a new page cannot skip the matrix.
Out of scope is computed from the persona's own role assignments, not from the code under test:
the widest area any of its roles covers (a region subtree, a department's villages, one
household), and for county-wide things (schemes, periods) the region's ancestors too.
"""

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from kaoping.core.fields import ancestor_codes, subtree_q
from kaoping.core.models import Progress


@dataclass(frozen=True)
class Target:
    model: str  # "app.Model"
    kwargs: Callable[[models.Model], dict]
    public: bool = False  # anyone may open it (public postings, a store's public page)
    where: tuple = ()  # (lookup, value) pairs the row must also meet


def pk(row):
    return {"pk": row.pk}


# Logins that started long work (core.Progress names its starter by id, not by a foreign key).
_PROGRESS_STARTERS = Progress.objects.filter(started_by_id__isnull=False).values("started_by_id")


def _progress_of(user_id: int) -> int:
    rows = Progress.objects.filter(started_by_id=user_id).order_by("pk")
    return rows.values_list("pk", flat=True)[0]


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
    "outcomes:payouts": Target("periods.Period", pk),
    "outcomes:payouts_xlsx": Target("periods.Period", pk),
    "outcomes:payouts_pdf": Target("periods.Period", pk),
    "outcomes:interview": Target("outcomes.Interview", pk),
    "outcomes:decision": Target("outcomes.Decision", pk),
    "outcomes:pledge": Target("outcomes.Pledge", pk),
    "outcomes:pledge_accept": Target("outcomes.Pledge", pk),
    "outcomes:pledge_item_done": Target("outcomes.PledgeItem", pk),
    "outcomes:share_held": Target("outcomes.ExperienceShare", pk),
    "outcomes:pairing": Target("outcomes.Pairing", pk),
    "outcomes:key_village": Target("outcomes.KeyVillage", pk),
    "people:household": Target("people.Household", pk),
    "people:person_edit": Target("people.Person", pk),
    "people:tag_edit": Target("people.HouseholdTag", pk),
    "people:posts": Target(
        "regions.Region", lambda r: {"code": r.code}, where=(("level", "village"),)
    ),
    "people:post_edit": Target("people.HouseholdPost", pk),
    "people:household_natural_village": Target("people.Household", pk),
    "people:natural_villages": Target(
        "regions.Region", lambda r: {"code": r.code}, where=(("level", "village"),)
    ),
    "people:natural_village_edit": Target("regions.NaturalVillage", pk),
    "people:post_login": Target("people.HouseholdPost", pk),
    "ledger:entry_reverse": Target("ledger.Entry", pk),
    "ledger:entry_evidence": Target("ledger.Entry", pk),
    "ledger:grid_record": Target(
        "people.Household", lambda r: {"code": r.region.code, "scheme_code": "household-points"}
    ),
    "ledger:entry_new": Target(
        "people.Subject", lambda r: {"subject_id": r.pk, "scheme_code": _scheme_of(r)}
    ),
    "ledger:import_template": None,  # a scheme code: schemes are county-wide
    # A progress is its starter's alone (404 to anyone else, in the area or not), like a message;
    # kaoping/core/tests/test_progress.py has the personas.
    "core:progress": Target(
        "accounts.RoleAssignment",
        lambda r: {"pk": _progress_of(r.user_id)},
        where=(("user_id__in", _PROGRESS_STARTERS), ("region__isnull", False)),
    ),
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
    "reports:detail": Target("reports.Report", pk),
    "reports:retry": Target("reports.Report", pk),
    "reports:file": Target("reports.Report", lambda r: {"pk": r.pk, "fmt": "pdf"}),
    "reports:schedule_delete": Target("reports.ReportSchedule", pk),
    "reports:schedule_toggle": Target("reports.ReportSchedule", pk),
    # A message is its recipient's alone: one of a login in the area (or out of it) is as
    # closed to the persona as any other (404); the persona's own is opened by its home.
    "inbox:detail": Target(
        "accounts.RoleAssignment",
        lambda r: {"pk": _message_of(r.user_id)},
        where=(("user__inbox_messages__isnull", False), ("region__isnull", False)),
    ),
    "inbox:attachment": Target(
        "accounts.RoleAssignment",
        lambda r: {"pk": _message_of(r.user_id)},
        where=(("user__inbox_messages__isnull", False), ("region__isnull", False)),
    ),
    "grid:visit_new": Target("people.Household", pk),
    "grid:book": Target("people.Household", pk),
    "grid:book_pdf": Target("people.Household", pk),
    "grid:visit": Target("grid.Visit", pk),
    "grid:visit_photo": Target("grid.VisitEvidence", pk),
    "grid:grid_books_pdf": Target(
        "regions.Region", lambda r: {"code": r.code}, where=(("level", "grid"),)
    ),
    "api:household_visits": Target("people.Household", lambda r: {"household_id": r.pk}),
    "api:book_changes_create": Target("people.Household", lambda r: {"household_id": r.pk}),
    "problems:detail": Target("problems.Problem", pk),
    "problems:progress": Target("problems.Problem", pk),
    "problems:resolve": Target("problems.Problem", pk),
    "problems:assign": Target("problems.Problem", pk),
    "problems:close": Target("problems.Problem", pk),
    "problems:confirm": Target("problems.Problem", pk),
    "problems:raise": Target("people.Household", lambda r: {"household_pk": r.pk}),
    "api:problem_get": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    "api:problem_progress_api": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    "api:problem_resolve_api": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    "api:problem_assign_api": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    "api:problem_confirm_api": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    "api:problem_close_api": Target("problems.Problem", lambda r: {"problem_id": r.pk}),
    # A round is county-wide (its findings are checked by department, election/access.py:
    # kaoping/election/tests/test_findings_api.py has the personas).
    "api:findings_submit_endpoint": Target("election.ElectionRound", lambda r: {"round_id": r.pk}),
    "api:findings_list_endpoint": Target("election.ElectionRound", lambda r: {"round_id": r.pk}),
    # rounds (kaoping/election/views_rounds.py): a round's configuration pages are the county's
    # (ElectionRound.objects.for_user(user, "election.view")); election:rounds and
    # election:round_example take no arguments.
    "election:round": Target("election.ElectionRound", pk),
    "election:round_close": Target("election.ElectionRound", pk),
    "election:round_version": Target("election.RoundVersion", pk),
    # sheets (kaoping/election/views_sheets.py): one person's sheet and its intention form.
    "election:sheet": Target("election.PersonSheet", pk),
    "election:sheet_edit": Target("election.PersonSheet", pk),
    # villages (kaoping/election/views_villages.py): the village file's pages and its posts.
    "election:file": Target("election.VillageFile", pk),
    "election:file_stage": Target("election.VillageFile", pk),
    "election:file_stage_undo": Target("election.VillageFile", pk),
    "election:file_update": Target("election.VillageFile", pk),
    "election:file_key": Target("election.VillageFile", pk),
    "election:file_team": Target("election.VillageFile", pk),
    "election:file_visit": Target("election.VillageFile", pk),
    "election:file_issue": Target("election.VillageFile", pk),
    "election:file_talk": Target("election.VillageFile", pk),
    "election:file_result": Target("election.VillageFile", pk),
    "election:file_team_remove": Target("election.TeamMember", pk),
    "election:file_issue_clear": Target("election.VillageIssue", pk),
    "election:file_talk_remove": Target("election.Talk", pk),
    # evaluation plans (kaoping/evaluations/views_plans.py): Plan and PlanVersion are seen from
    # the plan's region and below (scope_includes_ancestors); the pages take evaluation.manage.
    # evaluations:plans, plan_format and plan_example take no arguments.
    "evaluations:plan": Target("evaluations.Plan", pk),
    "evaluations:plan_version": Target("evaluations.PlanVersion", pk),
    # Evaluation rounds (evaluations/urls_rounds.py): a round is read with evaluation.view (a
    # county's round from every village of the county), closed with evaluation.manage or by the
    # chair of a panel round; a plan's round is opened with evaluation.manage on the plan.
    # evaluations:home takes no arguments.
    "evaluations:round": Target("evaluations.Round", pk),
    "evaluations:round_close": Target("evaluations.Round", pk),
    "evaluations:round_open": Target("evaluations.Plan", pk),
    # Ballots (evaluations/urls_ballots.py): a round's rating page for a login rater (rounds of
    # the rater's area, and those they judge), the village picker and one village's printable
    # codes (evaluation.paper on the village), paper ballots (evaluation.paper), the audit
    # role's individual ballots (evaluation.ballots), and the public page a code's QR opens.
    "evaluations:rate": Target("evaluations.Round", pk),
    "evaluations:code": Target("evaluations.RaterCode", lambda r: {"code": r.code}, public=True),
    "evaluations:codes_villages": Target("evaluations.Round", pk),
    "evaluations:codes": Target(
        "evaluations.RaterCode", lambda r: {"pk": r.round_id, "village": r.village_id}
    ),
    "evaluations:paper": Target("evaluations.Round", pk),
    "evaluations:ballots": Target("evaluations.Round", pk),
    # 集中评比 (H4): a panel round's chair board and its poll, the close, a judge's phone, the screen.
    "evaluations:panel": Target("evaluations.Round", pk),
    "evaluations:panel_board": Target("evaluations.Round", pk),
    "evaluations:panel_close": Target("evaluations.Round", pk),
    "evaluations:judge": Target("evaluations.Round", pk),
    "evaluations:screen": Target("evaluations.Round", pk),
    # Meeting sign-in (evaluations/urls_meetings.py): a meeting's pages, and the public page of
    # its QR code, opened by a member's phone without a login.
    "evaluations:meeting": Target("evaluations.Meeting", pk),
    "evaluations:meeting_attendance": Target("evaluations.Meeting", pk),
    "evaluations:meeting_close": Target("evaluations.Meeting", pk),
    "evaluations:meeting_sign_in_for": Target("evaluations.Meeting", pk),
    "evaluations:sign_in": Target("evaluations.Meeting", lambda r: {"code": r.code}, public=True),
    # 一联二亮 (kaoping/evaluations/views_members.py): marking a member's pledge kept; the
    # pledge is scoped by its member's village (MemberPledge.objects.for_user). The services
    # and pledges pages and their record/add endpoints take no arguments.
    "evaluations:pledge_keep": Target("evaluations.MemberPledge", pk),
    # Evaluations in the JSON API (kaoping/evaluations/api.py): a round's results and its paper
    # ballots, by the round (kaoping/evaluations/tests/test_api.py has the personas).
    "api:evaluation_results": Target("evaluations.Round", lambda r: {"round_id": r.pk}),
    "api:evaluation_paper": Target("evaluations.Round", lambda r: {"round_id": r.pk}),
    # Inspections (kaoping/inspections): a draw is scoped by its unit's region; the list and
    # the draw button take no arguments.
    "inspections:draw": Target("inspections.Draw", pk),
}

_SCHEME_BY_KIND = {
    "village": "liubi-liuzheng",
    "household": "household-points",
    "party_member": "party-member-points",
    "team": "qianfen-team",
    "cadre": "qianfen-cadre",
    "grid": "grid-work",
}


def _scheme_of(subject) -> str:
    return _SCHEME_BY_KIND[subject.kind]


def _message_of(user_id: int) -> int:
    model = apps.get_model("inbox.Message")
    return model.objects.filter(recipient_id=user_id).order_by("pk").values_list("pk", flat=True)[0]


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


def watched_tables() -> set[str]:
    """Every table of the kaoping apps (many-to-many tables too) and the users'."""
    user_model = get_user_model()
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_config.name.startswith("kaoping.")
        or model in (user_model, user_model.groups.through, user_model.user_permissions.through)
    }


# A statement that writes, and the table it writes: the same words on SQLite and PostgreSQL.
_WRITE = re.compile(r'\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def fingerprint(row) -> dict:
    """A row's stored values: what a refused write must leave as it was."""
    fresh = type(row).objects.filter(pk=row.pk).first()
    return {"row": model_to_dict(fresh) if fresh else None}


@contextmanager
def writes_seen(found: list[str]):
    """Every write statement to a watched table run inside the block, appended to `found`
    ("INSERT INTO ledger_entry"): a refused request must run none. Stronger than comparing the
    tables' sizes after it (an update of another row, or an insert and a delete, count too),
    and far cheaper than counting every table around each request."""
    tables = watched_tables()
    with CaptureQueriesContext(connection) as captured:
        yield
    for query in captured.captured_queries:
        for verb, table in _WRITE.findall(query["sql"]):
            if table in tables:
                found.append(f"{' '.join(verb.upper().split())} {table}")
