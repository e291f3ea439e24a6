"""Permission at the service: every public write service checks first, through `ensure`.

The services are found by introspection: the public functions with an `acting_user` parameter
in every app's `services` module and in the other modules that write (WRITE_MODULES). Each one
has a case here that calls it with otherwise valid arguments on an object of 东岭村 (or of the
county); the tests call it

* as a persona out of its scope (oscar, the secretary of 西溪村, for 东岭村's things; a township
  or a villager for the county's): refused, and not a row of any table changed, the audit log
  included;
* as `None`: refused the same way (jobs act as `system_actor()`, never as nobody);
* as a persona who may: it goes through, so the refusals above are about permission and not
  about the arguments.

A new write service without a case here fails `test_every_write_service_has_a_case`.
"""

import copy
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import kaoping
from kaoping.accounts import services as accounts
from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import Refused, system_actor
from kaoping.accounts.tests.permission_case import Case, cases_of
from kaoping.core.errors import ImportFailed
from kaoping.core.models import AuditLog
from kaoping.election.testing import election_world
from kaoping.evaluations.testing import evaluation_world
from kaoping.grid import coverage as grid_coverage
from kaoping.grid import services as grid
from kaoping.inbox import services as inbox
from kaoping.inbox.models import Message
from kaoping.inspections.tests.helpers import sampling_world
from kaoping.ledger import computed, imports
from kaoping.ledger import services as ledger
from kaoping.ledger.models import Entry, ImportJob
from kaoping.ledger.services import EntryDraft
from kaoping.ledger.testing import import_workbook, png_upload
from kaoping.outcomes import services as outcomes
from kaoping.outcomes.models import (
    ExperienceShare,
    Interview,
    KeyVillage,
    Pairing,
    Pledge,
    PledgeItem,
)
from kaoping.people import services as people
from kaoping.people.models import HouseholdPost, HouseholdTag, Person, Subject
from kaoping.people.services import subjects_sync
from kaoping.periods import services as periods
from kaoping.periods.models import Period
from kaoping.problems import services as problems
from kaoping.problems.testing import problems_in_each_state
from kaoping.publishing import services as publishing
from kaoping.publishing.models import Objection
from kaoping.regions import services as regions
from kaoping.reports import services as reports
from kaoping.reports.models import Report, ReportSchedule
from kaoping.schemes import services as schemes
from kaoping.store import services as store
from kaoping.store.models import Account
from kaoping.testing import build_small_county, built_once

pytestmark = pytest.mark.django_db

# Modules that hold write services besides each app's services.py.
WRITE_MODULES = [
    "kaoping.ledger.imports",
    "kaoping.ledger.computed",
    "kaoping.outcomes.bonus",
    "kaoping.grid.coverage",
    "kaoping.election.rounds",
    "kaoping.election.findings",
    "kaoping.election.sheets",
    "kaoping.reports.election",
    "kaoping.evaluations.plans",
    "kaoping.evaluations.rounds",
    "kaoping.evaluations.ballots",
    "kaoping.evaluations.meetings",
    "kaoping.evaluations.linking",
    "kaoping.evaluations.pledges",
]

# Public functions with an `acting_user` that are not services: each is called only by a service
# that has checked already, inside its transaction. Nothing else belongs here.
INTERNAL = {
    # settings.PERIOD_HOOKS["after_close"]: run by period_close (period.close checked).
    "kaoping.outcomes.services.consequences_apply",
    "kaoping.publishing.services.objections_mark_applied",
    # settings.PERIOD_HOOKS["after_reopen"]: run by period_reopen (period.close checked).
    "kaoping.outcomes.services.consequences_void",
    # settings.PERIOD_HOOKS["before_close"]: run by period_close (period.close checked).
    "kaoping.problems.services.problems_metrics_push",
    "kaoping.grid.coverage.coverage_push",
    "kaoping.evaluations.linking.link_coverage_push",
    "kaoping.inspections.services.inspections_push",
    # The ledger's one write: asserts it runs inside the transaction of the service that checked
    # (entry_record, entries_review's reversals, an import, the close, an objection decision).
    "kaoping.ledger.services.entries_write",
    # Builds the unsaved reversal that entries_write then writes; writes nothing itself.
    "kaoping.ledger.services.reversal_of",
}
# Signal receivers take no actor: the store's `entries_approved_receiver` credits as the system
# actor (test_the_store_credits_approved_entries_as_the_system_actor below).

DONGLING = "330304001001"  # 东岭村: the persona's out-of-scope village in most cases
NANSHAN = "330304001002"  # 南山社区, the other village of 东岭街道

HOUSEHOLD_SCHEME = """
code: perm-hh
version: 1
name: 权限测试农户积分
subject_kind: household
cadence: month
decimals: 0
base: 100
floor: 0
review:
  by: [review_member]
  auto_approve: [department]
account:
  spendable: true
  expire_months: 1
tree:
  - code: POS
    name: 正面清单
    section: bonus
    children:
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 10}
"""

VILLAGE_SCHEME = """
code: perm-village
version: 1
name: 权限测试村考评
subject_kind: village
cadence: month
base: 0
tree:
  - code: A
    name: 党建
    children:
      - {code: A1, name: 开会, rule: count, points: 5}
  - code: E
    name: 指标
    children:
      - code: E1
        name: 走访率
        rule: metric
        metric: reported_rate
        bands:
          - {min: 0.9, min_inclusive: true, points: 10}
"""

NEW_SCHEME = VILLAGE_SCHEME.replace("perm-village", "perm-new").replace("权限测试", "新")


# ─── discovery ───


def write_modules():
    modules = []
    for info in pkgutil.iter_modules(kaoping.__path__):
        name = f"kaoping.{info.name}.services"
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules + [importlib.import_module(name) for name in WRITE_MODULES]


def discovered() -> dict[str, object]:
    """Public functions defined in the write modules that take an `acting_user`."""
    found = {}
    for module in write_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if "acting_user" in inspect.signature(function).parameters:
                found[f"{module.__name__}.{name}"] = function
    return found


# ─── the world: one object of every kind a service acts on, in 东岭村 ───


@dataclass
class World:
    county: object
    users: dict
    hh: object  # the household scheme, with points accounts
    village_scheme: object
    household: Subject  # erin's household, in 东岭村's first grid
    person: Person
    village: Subject  # 东岭村
    team: Subject  # 东岭村's 两委 team
    submitted: object  # an entry waiting for review
    approved: object
    job: ImportJob  # carol's checked import of one row
    open_period: Period
    closed_period: Period
    due_period: Period  # posted, its objection window over
    objection: Objection
    upheld: Objection
    store: object
    goods: object
    account: Account
    requested: object  # a redemption waiting to be handed over
    interview: Interview
    share: ExperienceShare
    pledge: Pledge  # open, with one open item
    item: PledgeItem
    finished_pledge: Pledge  # open, every item done
    pairing: Pairing
    key_village: KeyVillage
    awaiting: object = None  # an imported entry waiting for its evidence
    message: object = None  # an unread inbox message to carol
    problems: dict | None = None  # kaoping.problems.testing.problems_in_each_state
    report: object = None  # a failed report of 东岭村's closed month (kaoping.reports)
    schedule: object = None  # a schedule of 东岭村's bulletin to the county admins
    election: object = None  # kaoping.election.testing.ElectionWorld: a round of village elections
    evaluation: object = None  # kaoping.evaluations.testing.EvaluationWorld: a plan and its rounds
    media_root: object = None  # where the world's files are (it is built once for the module)


def add_user(county, username: str, role: str, code: str):
    user = get_user_model().objects.create_user(username=username, password="pw")
    RoleAssignment.objects.create(user=user, role=role, region=county.region(code))
    county.users[username] = user
    return user


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module's four hundred tests, as Django's setUpTestData
    does: it stays in a transaction rolled back after the module's last test, and each test runs
    in a savepoint inside it (the `db` fixture) with its own copy of the objects (`world`)."""
    media = tmp_path_factory.mktemp("media")
    with built_once(django_db_blocker, MEDIA_ROOT=media):
        built = build_world(build_small_county())
        built.media_root = media
        yield built


@pytest.fixture
def world(built_world, db, settings) -> World:
    # The files the world stored (an import's workbook, evidence) are where it put them.
    settings.MEDIA_ROOT = built_world.media_root
    return copy.deepcopy(built_world)


def build_world(county) -> World:
    system = system_actor()
    add_user(county, "kim", Role.STORE_KEEPER, DONGLING)
    add_user(county, "rita", Role.REVIEW_MEMBER, DONGLING)
    today = timezone.localdate()
    region = county.region("330304")

    def load(text):
        version, _created = schemes.scheme_load(
            text=text, filename="s.yaml", region=region, acting_user=system
        )
        return version.scheme

    hh, village_scheme = load(HOUSEHOLD_SCHEME), load(VILLAGE_SCHEME)
    sampling_world(county)  # an inspection draw of 东岭村 (kaoping/inspections)
    subjects_sync(kind="team")
    erin_household = county.users["erin"].role_assignments.get().household
    household = Subject.objects.get(kind="household", household=erin_household)
    village = Subject.objects.get(kind="village", region__code=DONGLING)
    team = Subject.objects.get(kind="team", region__code=DONGLING)
    nanshan = Subject.objects.get(kind="village", region__code=NANSHAN)

    submitted, _ = ledger.entry_record(
        scheme=hh,
        subject=household,
        item_code="CLEAN",
        occurred_on=today - timedelta(days=5),
        acting_user=county.users["dave"],
    )
    approved, _ = ledger.entry_record(
        scheme=hh,
        subject=household,
        item_code="CLEAN",
        occurred_on=today - timedelta(days=4),
        acting_user=system,
        source="department",
    )
    awaiting, _ = ledger.entry_record(
        scheme=hh,
        subject=household,
        item_code="CLEAN",
        occurred_on=today - timedelta(days=3),
        acting_user=county.users["carol"],
    )
    # As an import writes a row of an item that needs evidence (the scheme's items need none).
    Entry.objects.filter(pk=awaiting.pk).update(status="awaiting")
    awaiting.status = "awaiting"
    job = imports.import_upload(
        scheme=hh,
        data=import_workbook([(erin_household.number, "庭院整洁", 1, None, today, "")]),
        filename="entries.xlsx",
        acting_user=county.users["carol"],
    )
    assert job.errors == []

    def period(label: str, *, close=True, post=False) -> Period:
        found = periods.period_open(scheme=village_scheme, label=label, acting_user=system)
        if close:
            periods.period_close(period=found, acting_user=system)
        if post:
            found = periods.period_post(period=found, acting_user=system)
        return found

    open_period = period("2026-11", close=False)
    closed_period = period("2026-10")
    due_period = period("2026-09", post=True)
    Period.objects.filter(pk=due_period.pk).update(
        objection_deadline=timezone.now() - timedelta(days=1)
    )
    due_period.refresh_from_db()
    objected = period("2026-08", post=True)
    filed = {
        "period": objected,
        "subject": village,
        "region_code": DONGLING,
        "name": "张三",
        "contact": "13800000000",
        "reason": "开会次数记少了",
    }
    objection = Objection.objects.create(**filed)
    upheld = Objection.objects.create(
        **filed, status="upheld", decision="已核实", decided_at=timezone.now()
    )

    shop = store.store_save(
        region=county.region(DONGLING), name="东岭村积分超市", acting_user=system
    )
    store.window_add(
        store=shop,
        name="本周",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=3),
        acting_user=system,
    )
    store.window_add(
        store=shop,
        name="两月前",
        starts_on=today - timedelta(days=60),
        ends_on=today - timedelta(days=54),
        acting_user=system,
    )
    rice = store.goods_save(
        store=shop, acting_user=system, name="大米", unit="袋", price=Decimal(10)
    )
    store.stock_in(goods=rice, quantity=20, kind="purchase", acting_user=system)
    store.accounts_open(scheme=hh, subject_ids=[household.pk], acting_user=system)
    account = Account.objects.get(scheme=hh, subject=household)
    Account.objects.filter(pk=account.pk).update(balance=Decimal(100))
    requested, _ = store.redemption_make(account=account, goods=rice, acting_user=system)
    # Requested two months ago and never collected: the daily job puts it back.
    store.redemption_make(
        account=account, goods=rice, acting_user=system, day=today - timedelta(days=57)
    )
    account.refresh_from_db()

    later = today + timedelta(days=30)
    listed = {"period": closed_period, "scheme": village_scheme, "list_code": "black"}
    pledge = Pledge.objects.create(**listed, subject=village, deadline=later)
    item = PledgeItem.objects.create(pledge=pledge, text="修村道", owner="村书记", deadline=later)
    finished = Pledge.objects.create(**listed, subject=team, deadline=later)
    PledgeItem.objects.create(
        pledge=finished, text="建台账", owner="村主任", deadline=later, status="done"
    )
    HouseholdTag.objects.create(region=region, name="低保", code="dibao")
    HouseholdPost.objects.create(
        region=county.region(DONGLING), person=county.persons["张伟"], post="area"
    )
    return World(
        county=county,
        users=county.users,
        hh=hh,
        village_scheme=village_scheme,
        household=household,
        person=Person.objects.filter(household=erin_household).first(),
        village=village,
        team=team,
        submitted=submitted,
        approved=approved,
        awaiting=awaiting,
        job=job,
        open_period=open_period,
        closed_period=closed_period,
        due_period=due_period,
        objection=objection,
        upheld=upheld,
        store=shop,
        goods=rice,
        account=account,
        requested=requested,
        interview=Interview.objects.create(
            period=closed_period, subject=village, list_code="black", level="l1", level_name="约谈"
        ),
        share=ExperienceShare.objects.create(
            period=closed_period, subject=village, list_code="red"
        ),
        pledge=pledge,
        item=item,
        finished_pledge=finished,
        pairing=Pairing.objects.create(
            period=closed_period,
            scheme=village_scheme,
            strong=nanshan,
            weak=village,
            start=today - timedelta(days=30),
        ),
        key_village=KeyVillage.objects.create(
            subject=village, designated_on=today - timedelta(days=30), reason="基础薄弱"
        ),
        message=Message.objects.create(
            recipient=county.users["carol"], kind="notice", title="通知"
        ),
        problems=problems_in_each_state(county),
        report=Report.objects.create(
            kind="bulletin",
            scheme=village_scheme,
            period=closed_period,
            label=closed_period.label,
            region=county.region(DONGLING),
            status="failed",
            created_by=system,
        ),
        schedule=ReportSchedule.objects.create(
            kind="bulletin",
            scheme=village_scheme,
            region=county.region(DONGLING),
            recipients=["county_admin"],
            created_by=system,
        ),
        election=election_world(county),
        evaluation=evaluation_world(county),
    )


# ─── the cases: (who may, who may not, the call) ───

TODAY = timezone.localdate
NEW_GRID = [(2, "330304001001003", "东岭村第3网格")]  # a new grid of 东岭村


def in_transaction(call):
    """entries_compute runs inside the close's transaction; the test gives it one."""

    def run(w, actor):
        with transaction.atomic():
            return call(w, actor)

    return run


CASES: dict[str, Case] = {
    # accounts: logins managed in the console (bob: township staff of 东岭街道)
    "kaoping.accounts.services.login_create": Case(
        "bob",
        "oscar",
        lambda w, a: accounts.login_create(
            name="新书记",
            phone="13911112222",
            role=Role.VILLAGE_SECRETARY,
            scope=DONGLING,
            acting_user=a,
        ),
    ),
    "kaoping.accounts.services.logins_import": Case(
        "alice",
        "oscar",
        lambda w, a: accounts.logins_import(
            data="姓名,手机号,角色,范围\n新网格员,13911113333,网格员,330304001001001\n".encode(),
            filename="logins.csv",
            acting_user=a,
        ),
    ),
    "kaoping.accounts.services.login_set_active": Case(
        "bob",
        "oscar",
        lambda w, a: accounts.login_set_active(user=w.users["carol"], active=False, acting_user=a),
    ),
    "kaoping.accounts.services.login_password_reset": Case(
        "bob",
        "oscar",
        lambda w, a: accounts.login_password_reset(user=w.users["clara"], acting_user=a),
    ),
    "kaoping.accounts.services.password_change": Case(
        "dave",
        "oscar",  # nobody changes someone else's password (a reset is a manager's, and audited)
        lambda w, a: accounts.password_change(
            user=w.users["dave"], old_password="pw", new_password="Kp-2026-new", acting_user=a
        ),
    ),
    # ledger
    "kaoping.ledger.services.entry_record": Case(
        "dave",
        "oscar",
        lambda w, a: ledger.entry_record(
            scheme=w.hh,
            subject=w.household,
            item_code="CLEAN",
            occurred_on=TODAY(),
            acting_user=a,
        ),
    ),
    "kaoping.ledger.services.entries_record_batch": Case(
        "dave",
        "oscar",
        lambda w, a: ledger.entries_record_batch(
            scheme=w.hh,
            drafts=[EntryDraft(subject=w.household, item_code="CLEAN", occurred_on=TODAY())],
            acting_user=a,
            source="collected",
        ),
    ),
    "kaoping.ledger.services.entries_review": Case(
        "rita",
        "oscar",
        lambda w, a: ledger.entries_review(
            entry_ids=[w.submitted.pk], decision="approve", acting_user=a
        ),
    ),
    "kaoping.ledger.services.entry_evidence_attach": Case(
        "dave",
        "oscar",
        lambda w, a: ledger.entry_evidence_attach(
            entry=w.awaiting, files=[png_upload()], acting_user=a
        ),
    ),
    "kaoping.ledger.services.entry_reverse": Case(
        "rita",
        "oscar",
        lambda w, a: ledger.entry_reverse(entry=w.approved, reason="重复录入", acting_user=a),
    ),
    "kaoping.ledger.imports.import_upload": Case(
        "carol",
        "erin",  # a villager records nothing: the county's scheme is not hers to import into
        lambda w, a: imports.import_upload(
            scheme=w.hh,
            data=import_workbook(
                [(w.household.household.number, "庭院整洁", 1, None, TODAY(), "")]
            ),
            filename="again.xlsx",
            acting_user=a,
        ),
    ),
    "kaoping.ledger.imports.import_queue": Case(
        "carol", "oscar", lambda w, a: imports.import_queue(job=w.job, acting_user=a)
    ),
    "kaoping.ledger.imports.import_commit": Case(
        "carol", "oscar", lambda w, a: imports.import_commit(w.job, acting_user=a)
    ),
    "kaoping.ledger.computed.entries_compute": Case(
        "alice",
        "oscar",
        in_transaction(lambda w, a: computed.entries_compute(period=w.open_period, acting_user=a)),
    ),
    # people, regions, schemes
    "kaoping.people.services.person_update": Case(
        "carol",
        "oscar",
        lambda w, a: people.person_update(person=w.person, phone="13912345678", acting_user=a),
    ),
    "kaoping.people.services.book_changes_apply": Case(
        "carol",
        "oscar",
        lambda w, a: people.book_changes_apply(
            household=w.person.household,
            changes=[{"kind": "edited", "person": w.person, "fields": {"phone": "13912345679"}}],
            acting_user=a,
        ),
    ),
    "kaoping.people.services.households_import": Case(
        "carol",
        "dave",  # a grid member does not import households
        lambda w, a: people.households_import(
            data=(
                "户号,网格代码,户主,姓名,性别,身份证号,与户主关系,电话,地址,标签\n"
                "H1,330304001001001,是,新户主,男,,户主,,,\n"
            ).encode(),
            filename="households.csv",
            acting_user=a,
        ),
    ),
    "kaoping.people.services.household_tag_create": Case(
        "alice",
        "bob",  # township staff: the tags are the county's
        lambda w, a: people.household_tag_create(
            county=w.county.region("330304"), name="监测户", code="jc", acting_user=a
        ),
    ),
    "kaoping.people.services.household_tag_update": Case(
        "alice",
        "bob",
        lambda w, a: people.household_tag_update(
            tag=HouseholdTag.objects.get(code="dibao"), name="低保户", active=True, acting_user=a
        ),
    ),
    "kaoping.people.services.household_post_login_create": Case(
        "bob",  # logins are made by those who manage logins
        "oscar",
        lambda w, a: people.household_post_login_create(
            household_post=HouseholdPost.objects.get(post="area"),
            phone="13955556666",
            acting_user=a,
        ),
    ),
    "kaoping.people.services.household_post_save": Case(
        "carol",
        "oscar",
        lambda w, a: people.household_post_save(
            village=w.county.region(DONGLING),
            person=w.person,
            post="group",
            households=[w.person.household],
            acting_user=a,
        ),
    ),
    "kaoping.regions.services.regions_import": Case(
        "alice",
        "oscar",
        lambda w, a: regions.regions_import(rows=NEW_GRID, acting_user=a),
        refusal=ImportFailed,  # a row outside the actor's area is a row error; nothing written
    ),
    "kaoping.regions.services.regions_import_file": Case(
        "alice",
        "oscar",
        lambda w, a: regions.regions_import_file(
            data="代码,名称\n330304001001003,东岭村第3网格\n".encode(),
            filename="list.csv",
            acting_user=a,
        ),
        refusal=ImportFailed,
    ),
    "kaoping.schemes.services.scheme_load": Case(
        "alice",
        "bob",  # township staff: schemes are the county's
        lambda w, a: schemes.scheme_load(
            text=NEW_SCHEME,
            filename="new.yaml",
            region=w.county.region("330304"),
            acting_user=a,
        ),
    ),
    # periods
    "kaoping.periods.services.period_open": Case(
        "alice",
        "oscar",
        lambda w, a: periods.period_open(scheme=w.village_scheme, label="2026-12", acting_user=a),
    ),
    "kaoping.periods.services.period_close": Case(
        "alice", "oscar", lambda w, a: periods.period_close(period=w.open_period, acting_user=a)
    ),
    "kaoping.periods.services.period_rebind": Case(
        "alice",
        "oscar",
        lambda w, a: periods.period_rebind(
            period=w.open_period, version=w.open_period.version, acting_user=a
        ),
    ),
    "kaoping.periods.services.period_post": Case(
        "alice", "oscar", lambda w, a: periods.period_post(period=w.closed_period, acting_user=a)
    ),
    "kaoping.periods.services.period_finalise": Case(
        "alice", "oscar", lambda w, a: periods.period_finalise(period=w.due_period, acting_user=a)
    ),
    "kaoping.periods.services.period_reopen": Case(
        "alice",
        "oscar",
        lambda w, a: periods.period_reopen(
            period=w.closed_period, reason="数据有误", acting_user=a
        ),
    ),
    "kaoping.periods.services.periods_finalise_due": Case(
        "alice", "oscar", lambda w, a: periods.periods_finalise_due(acting_user=a)
    ),
    "kaoping.periods.services.metrics_report": Case(
        "carol",
        "oscar",
        lambda w, a: periods.metrics_report(
            period=w.open_period,
            values=[(w.village, "reported_rate", Decimal("0.95"))],
            acting_user=a,
        ),
    ),
    "kaoping.periods.services.membership_resolve": Case(
        "bob",
        "oscar",
        lambda w, a: periods.membership_resolve(
            subject=w.village, list_code="black", scheme=w.village_scheme, acting_user=a
        ),
    ),
    # publishing
    "kaoping.publishing.services.objection_decide": Case(
        "alice",
        "oscar",
        lambda w, a: publishing.objection_decide(
            objection=w.objection, decision="dismiss", text="经核实无误", acting_user=a
        ),
    ),
    "kaoping.publishing.services.objection_reclose": Case(
        "alice",
        "oscar",
        lambda w, a: publishing.objection_reclose(objection=w.upheld, acting_user=a),
    ),
    # outcomes
    "kaoping.outcomes.services.interview_record": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.interview_record(
            interview=w.interview, scheduled_on=TODAY() + timedelta(days=3), acting_user=a
        ),
    ),
    "kaoping.outcomes.services.share_mark_held": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.share_mark_held(share=w.share, topic="垃圾分类", acting_user=a),
    ),
    "kaoping.outcomes.services.pledge_item_add": Case(
        "carol",
        "oscar",
        lambda w, a: outcomes.pledge_item_add(
            pledge=w.pledge, text="装路灯", owner="村主任", acting_user=a
        ),
    ),
    "kaoping.outcomes.services.pledge_item_done": Case(
        "carol", "oscar", lambda w, a: outcomes.pledge_item_done(item=w.item, acting_user=a)
    ),
    "kaoping.outcomes.services.pledge_accept": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.pledge_accept(pledge=w.finished_pledge, acting_user=a),
    ),
    "kaoping.outcomes.services.exchange_record": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.exchange_record(
            pairing=w.pairing, on=TODAY(), kind="visit", note="上门交流", acting_user=a
        ),
    ),
    "kaoping.outcomes.services.key_village_designate": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.key_village_designate(
            subject=w.team, reason="班子不团结", acting_user=a
        ),
    ),
    "kaoping.outcomes.services.key_village_update": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.key_village_update(
            key_village=w.key_village, note="驻村工作组进驻", acting_user=a
        ),
    ),
    "kaoping.outcomes.services.key_village_leave": Case(
        "bob",
        "oscar",
        lambda w, a: outcomes.key_village_leave(
            key_village=w.key_village, left_on=TODAY(), reason="达到出列标准", acting_user=a
        ),
    ),
    # store
    "kaoping.store.services.accounts_credit": Case(
        "bob",
        "oscar",
        lambda w, a: store.accounts_credit(entry_ids=[w.approved.pk], acting_user=a),
    ),
    "kaoping.store.services.accounts_reconcile": Case(
        "alice",
        "bob",  # manages 东岭街道's stores, not the county's accounts
        lambda w, a: store.accounts_reconcile(acting_user=a),
    ),
    "kaoping.store.services.accounts_lapse": Case(
        "alice", "bob", lambda w, a: store.accounts_lapse(acting_user=a)
    ),
    "kaoping.store.services.accounts_reset": Case(
        "alice", "bob", lambda w, a: store.accounts_reset(acting_user=a)
    ),
    "kaoping.store.services.accounts_open": Case(
        "kim",
        "oscar",
        lambda w, a: store.accounts_open(
            scheme=w.hh,
            subject_ids=Subject.objects.filter(kind="household", region__code__startswith=DONGLING),
            acting_user=a,
        ),
    ),
    "kaoping.store.services.store_save": Case(
        "bob",
        "oscar",
        lambda w, a: store.store_save(
            region=w.county.region(DONGLING), name="东岭村积分超市", hours="周六", acting_user=a
        ),
    ),
    "kaoping.store.services.window_add": Case(
        "bob",
        "oscar",
        lambda w, a: store.window_add(
            store=w.store,
            name="年终",
            starts_on=TODAY() + timedelta(days=20),
            ends_on=TODAY() + timedelta(days=25),
            acting_user=a,
        ),
    ),
    "kaoping.store.services.windows_quarterly": Case(
        "bob",
        "oscar",
        lambda w, a: store.windows_quarterly(store=w.store, year=2027, days=7, acting_user=a),
    ),
    "kaoping.store.services.goods_save": Case(
        "bob",
        "oscar",
        lambda w, a: store.goods_save(
            store=w.store, name="食用油", unit="桶", price=Decimal(30), acting_user=a
        ),
    ),
    "kaoping.store.services.stock_in": Case(
        "kim",
        "oscar",
        lambda w, a: store.stock_in(goods=w.goods, quantity=5, kind="purchase", acting_user=a),
    ),
    "kaoping.store.services.stock_adjust": Case(
        "kim",
        "oscar",
        lambda w, a: store.stock_adjust(goods=w.goods, quantity=-1, note="受潮", acting_user=a),
    ),
    "kaoping.store.services.redemption_make": Case(
        "erin",  # her own household's account
        "oscar",
        lambda w, a: store.redemption_make(account=w.account, goods=w.goods, acting_user=a),
    ),
    "kaoping.store.services.redemption_complete": Case(
        "kim",
        "oscar",
        lambda w, a: store.redemption_complete(redemption=w.requested, acting_user=a),
    ),
    "kaoping.store.services.redemption_cancel": Case(
        "kim",
        "oscar",
        lambda w, a: store.redemption_cancel(
            redemption=w.requested, reason="户主改主意了", acting_user=a
        ),
    ),
    "kaoping.store.services.redemptions_lapse": Case(
        "kim", "oscar", lambda w, a: store.redemptions_lapse(acting_user=a)
    ),
    # inbox: bob may write to the logins of his township; oscar (a secretary) to nobody else.
    "kaoping.inbox.services.messages_deliver": Case(
        "bob",
        "oscar",
        lambda w, a: inbox.messages_deliver(
            recipients=[w.users["carol"]], title="通知", kind="notice", acting_user=a
        ),
    ),
    # Only the recipient marks a message read.
    "kaoping.inbox.services.message_mark_read": Case(
        "carol", "oscar", lambda w, a: inbox.message_mark_read(message=w.message, acting_user=a)
    ),
    # problems (民情台账) of erin's household in 东岭村 grid 1 (kaoping.problems.testing).
    "kaoping.problems.services.problem_raise": Case(
        "erin",
        "oscar",
        lambda w, a: problems.problem_raise(
            household=w.problems["open"].household,
            category="other",
            title="路灯坏了",
            idempotency_key="perm",
            acting_user=a,
        ),
    ),
    "kaoping.problems.services.problem_assign": Case(
        "dave",
        "oscar",
        lambda w, a: problems.problem_assign(
            problem=w.problems["open"], level="village", acting_user=a
        ),
    ),
    "kaoping.problems.services.problem_progress": Case(
        "carol",
        "oscar",
        lambda w, a: problems.problem_progress(
            problem=w.problems["village"], note="已联系", acting_user=a
        ),
    ),
    "kaoping.problems.services.problem_resolve": Case(
        "dave",
        "oscar",
        lambda w, a: problems.problem_resolve(
            problem=w.problems["open"], resolution="修好了", acting_user=a
        ),
    ),
    "kaoping.problems.services.problem_confirm": Case(
        "erin",
        "oscar",
        lambda w, a: problems.problem_confirm(
            problem=w.problems["resolved"], satisfied=True, rating=5, acting_user=a
        ),
    ),
    "kaoping.problems.services.problem_close_unconfirmed": Case(
        "bob",
        "oscar",
        lambda w, a: problems.problem_close_unconfirmed(
            problem=w.problems["unanswered"], acting_user=a
        ),
    ),
    # grid: dave visits the households of his grid; oscar (西溪村) sees none of 东岭村's.
    "kaoping.grid.services.visit_record": Case(
        "dave",
        "oscar",
        lambda w, a: grid.visit_record(
            household=w.household.household, acting_user=a, idempotency_key="permission-case"
        ),
    ),
    # grid: the book edited outside a visit (the API), as in people's book; oscar sees none of it.
    "kaoping.grid.services.book_changes_request": Case(
        "carol",
        "oscar",
        lambda w, a: grid.book_changes_request(
            household=w.person.household,
            changes=[{"kind": "edited", "person": w.person, "fields": {"phone": "13912345678"}}],
            acting_user=a,
            idempotency_key="permission-case",
        ),
    ),
    # grid coverage: the county's visiting rule is the county admin's; a township's is refused.
    "kaoping.grid.coverage.coverage_rule_set": Case(
        "alice",
        "bob",
        lambda w, a: grid_coverage.coverage_rule_set(
            county=w.county.region("330304"), cycle="quarter", overdue_days=92, acting_user=a
        ),
    ),
    # reports: bob (东岭街道) makes reports of his township's villages; a secretary makes none;
    # schedules are the county admin's.
    "kaoping.reports.services.report_create": Case(
        "bob",
        "oscar",
        lambda w, a: reports.report_create(
            kind="bulletin",
            scheme=w.village_scheme,
            period=w.closed_period,
            region=w.county.region(DONGLING),
            acting_user=a,
        ),
    ),
    "kaoping.reports.services.report_build": Case(
        "bob", "oscar", lambda w, a: reports.report_build(report=w.report, acting_user=a)
    ),
    "kaoping.reports.services.report_retry": Case(
        "bob", "oscar", lambda w, a: reports.report_retry(report=w.report, acting_user=a)
    ),
    "kaoping.reports.services.schedule_save": Case(
        "alice",
        "bob",
        lambda w, a: reports.schedule_save(
            kind="bulletin",
            scheme=w.village_scheme,
            region=w.county.region(DONGLING),
            recipients=["township_staff"],
            when="after_close",
            acting_user=a,
        ),
    ),
    "kaoping.reports.services.schedule_delete": Case(
        "alice", "bob", lambda w, a: reports.schedule_delete(schedule=w.schedule, acting_user=a)
    ),
    "kaoping.reports.services.schedule_deliver": Case(
        "alice",
        "bob",
        lambda w, a: reports.schedule_deliver(
            schedule=w.schedule, period=w.closed_period, acting_user=a
        ),
    ),
}


# Each module of the election app keeps its cases beside its tests (cases_<module>.py).
CASES.update(cases_of("kaoping.election.tests"))
CASES.update(cases_of("kaoping.evaluations.tests"))
CASES.update(cases_of("kaoping.inspections.tests"))


def everything() -> dict[str, list]:
    """Every row of every table (the audit log, the ledger, users…), to compare before/after."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
    }


# ─── the tests ───


def test_every_write_service_has_a_case():
    services = set(discovered()) - INTERNAL
    assert services - set(CASES) == set(), "write services without a permission case"
    assert set(CASES) - services == set(), "cases of services that no longer exist"


def test_internal_hooks_are_the_ones_settings_name():
    hooks = {path for paths in settings.PERIOD_HOOKS.values() for path in paths}
    with_actor = {path for path in hooks if path in discovered()}
    assert with_actor <= INTERNAL
    assert set(discovered()) >= INTERNAL, "an internal hook listed here no longer exists"


@pytest.mark.parametrize("name", sorted(set(discovered()) - INTERNAL))
def test_services_take_a_required_keyword_only_actor(name):
    parameter = inspect.signature(discovered()[name]).parameters["acting_user"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty, "None is never a default actor"


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_of_scope_persona_is_refused_and_nothing_changes(world, name):
    case = CASES[name]
    before = everything()
    with pytest.raises(case.refusal) as refused:
        case.call(world, world.users[case.refused])
    if case.refusal is Refused:
        assert isinstance(refused.value, PermissionDenied)  # a view answers 403
    else:
        outside = _("%(c)s lies outside your area; you may not change it.") % {
            "c": "330304001001003"
        }
        assert [e.message for e in refused.value.errors] == [outside]
    assert everything() == before


@pytest.mark.parametrize("name", sorted(CASES))
def test_nobody_is_refused_and_nothing_changes(world, name):
    case = CASES[name]
    before = everything()
    with pytest.raises(case.refusal):
        case.call(world, None)
    assert everything() == before


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_persona_who_may_goes_through(world, name):
    case = CASES[name]
    before = AuditLog.objects.count()
    case.call(world, world.users[case.allowed])
    # Writing something and auditing it are the service's business; it was not refused.
    assert AuditLog.objects.count() >= before


def test_the_store_credits_approved_entries_as_the_system_actor(world):
    store.entries_approved_receiver(sender=None, entry_ids=[world.approved.pk])
    row = AuditLog.objects.get(action="store.accounts.credited")
    assert row.actor == system_actor()


def test_jobs_refuse_a_township_where_they_would_touch_the_whole_county(world):
    # bob manages 东岭街道's stores; the daily store jobs run over the county's schemes.
    for job in (store.accounts_reconcile, store.accounts_lapse, store.accounts_reset):
        with pytest.raises(Refused):
            job(acting_user=world.users["bob"])
    assert store.accounts_reconcile(acting_user=system_actor()) == 1
