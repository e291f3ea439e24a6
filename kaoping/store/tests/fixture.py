"""A household scheme with an account policy, a stocked store in 东岭村, and keeper personas.

Personas added to the small county: kim keeps the store of 东岭村; ken keeps the store of 西溪村
(out of scope for 东岭村's households); rita is 东岭村's review group.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.ledger.services import entry_record
from kaoping.ledger.tests.ledger_fixture import add_reviewer
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load
from kaoping.store import services
from kaoping.store.models import Account

VILLAGE = "330304001001"  # 东岭村
GRID = "330304001001001"
OTHER_VILLAGE = "330304002001"  # 西溪村

SCHEME = """
code: hh-store
version: 1
name: 农户积分
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
tree:
  - code: POS
    name: 正面清单
    section: bonus
    children:
      - {code: HELP, name: 邻里互助, rule: count, points: 2, cap: 6, declarable: true}
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 10}
      - {code: BIG, name: 见义勇为, rule: count, points: 50}
  - code: NEG
    name: 负面清单
    section: deduction
    children:
      - {code: FIGHT, name: 打架斗殴, rule: count, points: -5}
      - {code: WASTE, name: 乱倒垃圾, rule: count, points: -40}
grades:
  - {code: star, name: 星级文明户, honour: true, min: 150, min_inclusive: true}
"""


def load_scheme(county, text: str = SCHEME):
    version, _created = scheme_load(
        text=text,
        filename="hh-store.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def add_keepers(county) -> None:
    User = get_user_model()
    for username, code in (("kim", VILLAGE), ("ken", OTHER_VILLAGE)):
        user = User.objects.create_user(username=username, password="pw")
        RoleAssignment.objects.create(user=user, role=Role.STORE_KEEPER, region=county.region(code))
        county.users[username] = user
    add_reviewer(county)


def erin_subject(county) -> Subject:
    household = RoleAssignment.objects.get(user=county.users["erin"], role=Role.VILLAGER).household
    return Subject.objects.get(kind="household", household=household)


def household_subjects(code: str = VILLAGE):
    return Subject.objects.filter(kind="household", region__code__startswith=code).order_by("pk")


def earn(scheme, subject, item: str = "CLEAN", times: int = 1, day: date | None = None) -> list:
    """Record approved (department) entries and credit them, as the receiver would."""
    day = day or timezone.localdate()
    entries = []
    for _n in range(times):
        entry, _created = entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            occurred_on=day,
            acting_user=system_actor(),
            source="department",
        )
        entries.append(entry)
    services.accounts_credit(entry_ids=[e.pk for e in entries], acting_user=system_actor())
    return entries


def account_of(scheme, subject) -> Account:
    return Account.objects.get(scheme=scheme, subject=subject)


def open_store(county, code: str = VILLAGE, stock: int = 10, price: str = "10"):
    """A store for `code` redeeming from yesterday to next week, with rice and oil."""
    store = services.store_save(
        region=county.region(code), name="东岭村积分超市", acting_user=system_actor()
    )
    today = timezone.localdate()
    services.window_add(
        store=store,
        name="兑换周",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=6),
        acting_user=system_actor(),
    )
    rice = services.goods_save(
        store=store,
        acting_user=system_actor(),
        name="大米",
        unit="袋",
        price=Decimal(price),
        position=1,
    )
    oil = services.goods_save(
        store=store,
        acting_user=system_actor(),
        name="食用油",
        unit="桶",
        price=Decimal("25"),
        position=2,
        limit_per_household=1,
    )
    for goods in (rice, oil):
        services.stock_in(goods=goods, quantity=stock, kind="purchase", acting_user=system_actor())
        goods.refresh_from_db()
    return store, rice, oil
