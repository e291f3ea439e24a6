"""A household scheme reviewed by the review group, a reviewer persona, and a fuller grid."""

from django.contrib.auth import get_user_model

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.pinyin import initials
from kaoping.people.models import Household, Person
from kaoping.schemes.services import scheme_load
from kaoping.testing import make_id_number

GRID = "330304001001001"

HOUSEHOLD_SCHEME = """
code: hh
version: 1
name: 农户积分
subject_kind: household
cadence: month
base: 100
review:
  by: [review_member]
tree:
  - code: POS
    name: 正面清单
    section: bonus
    children:
      - {code: HELP, name: 邻里互助, rule: count, points: 2, cap: 6, declarable: true}
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 1}
  - code: NEG
    name: 负面清单
    section: deduction
    children:
      - {code: FIGHT, name: 打架斗殴, rule: count, points: -5}
"""


def fill_grid(county, households: int = 20) -> None:
    """Add households to grid 1 of 东岭村 until it holds `households`."""
    grid = county.region(GRID)
    have = Household.objects.filter(region=grid).count()
    for serial in range(have + 1, households + 1):
        household = Household.objects.create(
            region=grid, number=f"{GRID[:12]}9{serial:03d}", address=f"东岭村1组{serial}号"
        )
        name = f"村民{serial:02d}"
        head = Person.objects.create(
            household=household,
            region=grid,
            name=name,
            initials=initials(name),
            id_number=make_id_number(700 + serial, "19700101"),
            relation="户主",
        )
        household.head = head
        household.save(update_fields=["head"])


def load_household_scheme(county):
    version, _ = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="hh.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def add_reviewer(county, username: str = "rita"):
    user = get_user_model().objects.create_user(username=username, password="pw")
    RoleAssignment.objects.create(
        user=user, role=Role.REVIEW_MEMBER, region=county.region(GRID[:12])
    )
    county.users[username] = user
    return user
