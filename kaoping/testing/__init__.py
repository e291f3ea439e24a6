"""A small county and fixed personas for tests across the apps.

Tree: county 330304 → townships 001 (东岭街道), 002 (西溪镇) → villages 001001 (东岭村,
two grids), 001002 (南山社区, one grid), 002001 (西溪村, one grid). Two households per grid.

Personas (password "pw"): alice county admin; bob township staff of 东岭街道; carol village
secretary of 东岭村; clara village committee member of 东岭村 (read-mostly); dave grid member of
东岭村 grid 1; erin villager of a household in that grid; grace department scorer whose
department covers 南山社区 and 西溪村; oscar village secretary of 西溪村 (out of scope for 东岭村).
"""

import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_check_char
from kaoping.people.models import Cadre, GridPost, Household, PartyMember, Person
from kaoping.regions.models import Department, Region


def make_id_number(serial: int, birth: str = "19800101") -> str:
    first17 = f"330304{birth}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


@dataclass
class SmallCounty:
    regions: dict[str, Region] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    department: Department | None = None

    def region(self, code: str) -> Region:
        return self.regions[code]


def _region(
    county: SmallCounty, code: str, name: str, level: str, kind: str, parent: Region | None
) -> Region:
    region = Region.objects.create(
        code=code, name=name, level=level, kind=kind, parent=parent, initials=initials(name)
    )
    county.regions[code] = region
    return region


def build_small_county() -> SmallCounty:
    county = SmallCounty()
    c = _region(county, "330304", "瓯海区", "county", "", None)
    ta = _region(county, "330304001", "东岭街道", "township", "街道", c)
    tb = _region(county, "330304002", "西溪镇", "township", "镇", c)
    va1 = _region(county, "330304001001", "东岭村", "village", "村", ta)
    va2 = _region(county, "330304001002", "南山社区", "village", "社区", ta)
    vb1 = _region(county, "330304002001", "西溪村", "village", "村", tb)
    grids = [
        _region(county, "330304001001001", "东岭村第1网格", "grid", "网格", va1),
        _region(county, "330304001001002", "东岭村第2网格", "grid", "网格", va1),
        _region(county, "330304001002001", "南山社区第1网格", "grid", "网格", va2),
        _region(county, "330304002001001", "西溪村第1网格", "grid", "网格", vb1),
    ]
    names = iter(
        [
            "王建国",
            "李秀英",
            "张伟",
            "刘芳",
            "陈明",
            "杨丽",
            "赵强",
            "黄敏",
            "周杰",
            "吴静",
            "徐磊",
            "孙燕",
        ]
    )
    serial = 0
    for grid in grids:
        for n in (1, 2):
            serial += 1
            number = f"{grid.code[:12]}{serial:04d}"
            household = Household.objects.create(
                region=grid, number=number, address=f"{grid.parent.name}{n}组{serial}号"
            )
            head_name = next(names)
            head = Person.objects.create(
                household=household,
                region=grid,
                name=head_name,
                initials=initials(head_name),
                id_number=make_id_number(serial),
                phone=f"1380000{serial:04d}",
                relation="户主",
                gender="M",
            )
            Person.objects.create(
                household=household,
                region=grid,
                name=head_name[0] + "小" + "红",
                initials=initials(head_name[0] + "小红"),
                id_number=make_id_number(serial + 500, "19850505"),
                relation="配偶",
                gender="F",
            )
            household.head = head
            household.save(update_fields=["head"])
            county.households[number] = household
            county.persons[head_name] = head
    first = county.persons["王建国"]
    Cadre.objects.create(person=first, region=va1, post="secretary", is_one_shoulder=True)
    PartyMember.objects.create(person=first, region=va1, branch="东岭村党支部", member_class="A")
    GridPost.objects.create(region=grids[0], person=county.persons["李秀英"], post="member")
    Cadre.objects.create(person=county.persons["赵强"], region=vb1, post="secretary")

    department = Department.objects.create(county=c, code="D01", name="区委政法委")
    department.villages.set([va2, vb1])
    county.department = department

    User = get_user_model()

    def user(username: str, role: str, **anchor) -> object:
        account = User.objects.create_user(username=username, password="pw")
        RoleAssignment.objects.create(user=account, role=role, **anchor)
        county.users[username] = account
        return account

    user("alice", Role.COUNTY_ADMIN, region=c)
    user("bob", Role.TOWNSHIP_STAFF, region=ta)
    user("carol", Role.VILLAGE_SECRETARY, region=va1)
    user("clara", Role.VILLAGE_COMMITTEE, region=va1)
    user("dave", Role.GRID_MEMBER, region=grids[0])
    erin_household = next(h for h in county.households.values() if h.region_id == grids[0].pk)
    user("erin", Role.VILLAGER, region=grids[0], household=erin_household)
    user("grace", Role.DEPARTMENT_SCORER, department=department)
    user("oscar", Role.VILLAGE_SECRETARY, region=vb1)
    return county


def require_tool(command: str, package: str) -> str:
    """The path of `command`; a test that needs it fails, never skips, when it is missing."""
    path = shutil.which(command)
    if path is None:
        pytest.fail(
            f"{command} is missing: install the Debian package {package} "
            "(make test installs it when run as root or with sudo)",
            pytrace=False,
        )
    return path


def period_make_final(period) -> None:
    """Mark `period` final at once, as `period_finalise` leaves it (status and the ledger's seal),
    without waiting out its objection window."""
    from kaoping.ledger.services import ledger_seal
    from kaoping.periods.models import Period, PeriodStatus

    Period.objects.filter(pk=period.pk).update(status=PeriodStatus.FINAL)
    ledger_seal(scheme=period.scheme, start=period.start, end=period.end, reason=period.seal_reason)


QUICK_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def built_once(django_db_blocker, **settings):
    """Rows built once for many tests, as Django's `setUpTestData` does: inside a transaction
    rolled back when the block ends, each test running in a savepoint within it (the `db`
    fixture), so no test sees another's changes. Use it in a class- or module-scoped fixture and
    give each test a copy of the objects (`copy.deepcopy`): the rows roll back, objects do not.
    The passwords hash as in the tests (conftest's `_fast_tests`), which come later."""
    atomic = transaction.atomic()
    # As TestCase marks its own: the code under test may open a durable block, its outermost.
    atomic._from_testcase = True
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=QUICK_HASHERS, **settings),
        atomic,
    ):
        yield
        transaction.set_rollback(True)
