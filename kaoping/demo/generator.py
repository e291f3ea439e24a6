"""`kaoping demo`: a realistic county to click through, built deterministically from a seed.

The shape follows the Ouhai report (seeds/001): 瓯海区 with 13 towns and streets, 190 村社 (151
villages, 39 communities), 54 片区, 95 departments covering the villages in pairs, then households
in grids of 30–50, party members in classes A–F, the two committees of every 村社, grid posts, and
one demo login per role.

Each step is a function of `Build` that runs in its own transaction and reads what earlier steps
wrote from the database, so later work can append steps (a year of entries, a store) to STEPS.
Steps stream: households and persons are written in batches and no step holds the whole county in
memory, so a million households fit in a few hundred megabytes.
"""

import math
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from kaoping.accounts.models import Profile, Role, RoleAssignment
from kaoping.core.audit import audit_record
from kaoping.core.bulk import rows_insert
from kaoping.core.pinyin import initials
from kaoping.demo.election import build_election
from kaoping.demo.evaluations import build_evaluations
from kaoping.demo.grid import build_visits
from kaoping.demo.household_book import build_household_book
from kaoping.demo.inbox import build_inbox
from kaoping.demo.natural_villages import build_natural_villages
from kaoping.demo.postings import build_postings
from kaoping.demo.problems import build_problems
from kaoping.demo.reports import build_reports
from kaoping.demo.store import build_store
from kaoping.people.models import (
    Cadre,
    CadrePost,
    GridPost,
    GridPostKind,
    Household,
    MemberClass,
    PartyMember,
    Person,
)
from kaoping.regions.models import Cluster, Department, Level, Region
from kaoping.regions.services import region_kind

from .names import CLUSTER_ORDINALS, DEPARTMENTS, TOWNSHIPS
from .people import HEAD, MALE, REFERENCE_DATE, Resident, ResidentFactory, age_on, years_after
from .scoring import build_scoring

COUNTY_CODE = "330304"
COUNTY_NAME = "瓯海区"
DEMO_PASSWORD = "kaoping2026"

GRID_MIN, GRID_MAX = 30, 50
MIN_HOUSEHOLDS_PER_VILLAGE = 3  # enough adults for a two-committee team
# 150 of the 190 村社 had settled on a secretary who also chairs the committee (seeds/001).
ONE_SHOULDER_SHARE = 150 / 190
PROGRESS_EVERY = 50_000
PROGRESS_SECONDS = 5.0  # a long step says how far it got at least this often
# How long a build takes, measured on a 2-core machine with SQLite (1,500 households in 14 s,
# 20,000 in 55 s, 100,000 in 251 s; without scores 4 s and 16 s for 20,000 and 100,000):
# seconds per household, and a part that does not grow with the county. By scores or not.
SECONDS_PER_HOUSEHOLD = {True: 0.0024, False: 0.00015}
# Scores: the contest's 2025 adds about 2.5 s, the election's four weekly reports about 8 s;
# the election round itself about 2 s either way.
SECONDS_FIXED = {True: 22.5, False: 3.0}

Out = Callable[[str], None]


@dataclass
class Build:
    """The parameters of one build and where its progress lines go."""

    seed: int = 1
    households: int = 20_000
    batch_size: int = 5_000
    out: Out = field(default=lambda line: None)
    scores: bool = True  # steps that load schemes and score (declared with `scores_only`)
    said_at: float = field(default_factory=time.monotonic, repr=False)

    def progress(self, line: str) -> None:
        """Print `line` if nothing was said for PROGRESS_SECONDS: long loops call it as they go."""
        now = time.monotonic()
        if now - self.said_at >= PROGRESS_SECONDS:
            self.said_at = now
            self.out(line)

    def rng(self, *topic: object) -> random.Random:
        # One stream per topic (step, village): a change to one step's draws leaves every other
        # step's data as it was. String seeds are hashed with SHA-512, not hash(), so they do
        # not depend on PYTHONHASHSEED.
        return random.Random(":".join(str(part) for part in (self.seed, *topic)))


# --- pure planning helpers (tested directly) ------------------------------------------------


def cluster_sizes(villages: int, clusters: int) -> list[int]:
    """Split `villages` into `clusters` groups of 3 or 4."""
    fours = villages - 3 * clusters
    if not 0 <= fours <= clusters:
        raise ValueError(f"{villages} villages do not make {clusters} clusters of 3–4")
    return [4] * fours + [3] * (clusters - fours)


def _groupable(count: int) -> bool:
    # 51–59 households fit neither one grid of at most 50 nor two of at least 30.
    return not GRID_MAX < count < 2 * GRID_MIN


def village_household_counts(total: int, weights: list[float]) -> list[int]:
    """Households per village: proportional to `weights`, summing to `total`, every village
    at least MIN_HOUSEHOLDS_PER_VILLAGE and none of a size that cannot be split into grids."""
    if total < MIN_HOUSEHOLDS_PER_VILLAGE * len(weights):
        raise ValueError(f"need at least {MIN_HOUSEHOLDS_PER_VILLAGE * len(weights)} households")
    scale = total / sum(weights)
    ideal = [weight * scale for weight in weights]
    counts = [max(MIN_HOUSEHOLDS_PER_VILLAGE, int(value)) for value in ideal]
    # Largest remainders get the rounding households first.
    order = sorted(range(len(counts)), key=lambda i: ideal[i] - int(ideal[i]), reverse=True)
    _spread(counts, total - sum(counts), order)
    surplus = 0
    for i, count in enumerate(counts):
        if not _groupable(count):
            target = GRID_MAX if count < (GRID_MAX + 2 * GRID_MIN) / 2 else 2 * GRID_MIN
            surplus += count - target
            counts[i] = target
    _spread(counts, surplus, order)
    return counts


def _spread(counts: list[int], difference: int, order: list[int]) -> None:
    """Add (or take) `difference` households one at a time, cycling through `order`."""
    while difference:
        step = 1 if difference > 0 else -1
        moved = False
        for i in order:
            if not difference:
                break
            new = counts[i] + step
            if new >= MIN_HOUSEHOLDS_PER_VILLAGE and _groupable(new):
                counts[i] = new
                difference -= step
                moved = True
        if not moved:
            raise ValueError("cannot spread the households over the villages")


def grid_sizes(households: int, rng: random.Random) -> list[int]:
    """Households per grid: 30–50 each (M6), one grid for a village of at most 50."""
    if households <= GRID_MAX:
        return [households]
    fewest, most = math.ceil(households / GRID_MAX), households // GRID_MIN
    if fewest > most:
        return [households]  # 51–59; village_household_counts never asks for it
    grids = min(most, max(fewest, round(households / rng.uniform(36, 44))))
    base, extra = divmod(households, grids)
    sizes = [base + 1] * extra + [base] * (grids - extra)
    # Real grids follow lanes and buildings, so they are not all the same size.
    for _ in range(grids):
        i, j, moved = rng.randrange(grids), rng.randrange(grids), rng.randint(1, 6)
        if i != j and sizes[i] - moved >= GRID_MIN and sizes[j] + moved <= GRID_MAX:
            sizes[i] -= moved
            sizes[j] += moved
    return sizes


def estimate(households: int, scores: bool = True) -> str:
    """About how long a build of `households` takes on the machine the rates were measured on."""
    seconds = SECONDS_FIXED[scores] + SECONDS_PER_HOUSEHOLD[scores] * households
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5)} s"
    return f"about {round(seconds / 60)} min"


def one_shoulder_codes(build: Build, village_codes: list[str]) -> set[str]:
    """The 村社 whose secretary also chairs the committee (一肩挑); shared by party and cadres."""
    count = round(len(village_codes) * ONE_SHOULDER_SHARE)
    return set(build.rng("one-shoulder").sample(sorted(village_codes), count))


def stochastic_round(value: float, rng: random.Random) -> int:
    """Round so the expected value is kept: small villages still get the rare classes sometimes."""
    whole = int(value)
    return whole + (rng.random() < value - whole)


def _villages() -> list[Region]:
    return list(
        Region.objects.filter(level=Level.VILLAGE, code__startswith=COUNTY_CODE).order_by("code")
    )


def _born_between(oldest: int, youngest: int) -> dict:
    """Lookup kwargs for persons aged youngest..oldest on the reference date."""
    return {
        "birth_date__gt": years_after(REFERENCE_DATE, -(oldest + 1)),
        "birth_date__lte": years_after(REFERENCE_DATE, -youngest),
    }


def _random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


# --- steps ----------------------------------------------------------------------------------


def build_regions(build: Build) -> None:
    """County, 13 townships, 190 村社 (communities 001–099, villages 201+) and 54 片区."""
    county = Region.objects.create(
        code=COUNTY_CODE, name=COUNTY_NAME, level=Level.COUNTY, initials=initials(COUNTY_NAME)
    )
    cluster_serial = 0
    for spec in TOWNSHIPS:
        township = Region.objects.create(
            code=COUNTY_CODE + spec.serial,
            name=spec.name,
            level=Level.TOWNSHIP,
            kind=region_kind(Level.TOWNSHIP, spec.name),
            parent=county,
            initials=initials(spec.name),
        )
        named = [(f"{n:03d}", f"{base}社区") for n, base in enumerate(spec.communities, 1)]
        named += [(f"{n:03d}", f"{base}村") for n, base in enumerate(spec.villages, 201)]
        villages = Region.objects.bulk_create(
            Region(
                code=township.code + serial,
                name=name,
                level=Level.VILLAGE,
                kind=region_kind(Level.VILLAGE, name),
                parent=township,
                initials=initials(name),
            )
            for serial, name in named
        )
        start = 0
        for ordinal, size in enumerate(cluster_sizes(len(villages), spec.clusters)):
            cluster_serial += 1
            cluster = Cluster.objects.create(
                county=county,
                code=f"P{cluster_serial:02d}",
                name=f"{spec.name}第{CLUSTER_ORDINALS[ordinal]}片区",
            )
            cluster.villages.set(villages[start : start + size])
            start += size
    build.out(f"  regions: 1 county, {len(TOWNSHIPS)} townships, {cluster_serial} clusters")


# The departments the shipped schemes give items to (`owner: dept:<code>`) carry that code, so
# that their scorers may record exactly those items (`ledger.duties`); the others are numbered.
SCHEME_DEPARTMENTS = {
    "区委组织部": "organization",
    "区委政法委": "political_legal",
    "区纪委监委": "discipline",
    "区公安分局": "public_security",
    "区信访局": "petition",
    "区农业农村局": "agriculture",
    "区生态环境分局": "environment",
    "区委宣传部": "civilization",
    "区自然资源和规划分局": "natural_resources",
    "区水利局": "water",
    "区应急管理局": "emergency",
    "区综合行政执法局": "law_enforcement",
}


def build_departments(build: Build) -> None:
    """95 departments, each helping two neighbouring 村社 (部门联片帮村), together all 190."""
    county = Region.objects.get(code=COUNTY_CODE)
    villages = _villages()
    # Pairs in code order stay inside one township: every township has an even number of 村社.
    for index, name in enumerate(DEPARTMENTS):
        code = SCHEME_DEPARTMENTS.get(name, f"D{index + 1:02d}")
        department = Department.objects.create(county=county, code=code, name=name)
        department.villages.set(villages[2 * index : 2 * index + 2])
    build.out(f"  departments: {len(DEPARTMENTS)}")


def build_households(build: Build) -> None:
    """Grids of 30–50 households under every 村社, then the households and their residents."""
    villages = _villages()
    size_rng = build.rng("village-sizes")
    weights = [size_rng.triangular(0.5, 1.8, 0.9) for _ in villages]
    counts = village_household_counts(build.households, weights)
    factory = ResidentFactory(COUNTY_CODE)
    pending: list[tuple[Household, list[Resident]]] = []
    done = 0
    for village, count in zip(villages, counts, strict=True):
        rng = build.rng("households", village.code)
        clan = factory.clan_surname(rng)
        sizes = grid_sizes(count, rng)
        if len(sizes) > 999:
            raise ValueError(f"{village.name}: more than 999 grids")
        grids = Region.objects.bulk_create(
            Region(
                code=f"{village.code}{n:03d}",
                name=f"{village.name}第{n}网格",
                level=Level.GRID,
                kind=region_kind(Level.GRID, ""),
                parent=village,
                initials=initials(f"{village.name}第{n}网格"),
            )
            for n in range(1, len(sizes) + 1)
        )
        serial = 0
        for grid_number, (grid, size) in enumerate(zip(grids, sizes, strict=True), 1):
            house = 0
            for index in range(size):
                serial += 1
                house += rng.randint(1, 3)  # house numbers skip the odd demolished house
                if village.kind == "社区":
                    # Communities are gridded by building (M6).
                    address = f"{village.name}{grid_number}幢{index // 4 + 1}{index % 4 + 1:02d}室"
                else:
                    address = f"{village.name}{grid_number}组{house}号"
                household = Household(
                    region=grid, number=f"{village.code}{serial:04d}", address=address
                )
                pending.append((household, factory.household(rng, clan)))
                if len(pending) >= build.batch_size:
                    done += _write_households(pending)
                    pending = []
                    if done % PROGRESS_EVERY < build.batch_size:
                        build.out(f"  households: {done:,} / {build.households:,}")
    if pending:
        done += _write_households(pending)
    build.out(
        f"  households: {done:,} in {Region.objects.filter(level=Level.GRID).count():,} grids"
    )


# The columns of a resident's row, as `_write_households` gives them.
PERSON_COLUMNS = (
    "household",
    "region",
    "name",
    "initials",
    "id_number",
    "gender",
    "birth_date",
    "phone",
    "relation",
)


def _write_households(pending: list[tuple[Household, list[Resident]]]) -> int:
    households = Household.objects.bulk_create([household for household, _ in pending])
    # Residents go in as plain rows: model instances and bulk_create took most of the step.
    persons = [
        (household.pk, household.region_id, r.name, r.initials, r.id_number, r.gender)
        + (connection.ops.adapt_datefield_value(r.birth_date), r.phone, r.relation)
        for household, residents in pending
        for r in residents
    ]
    rows_insert(Person, PERSON_COLUMNS, persons)
    # The head is known only once the persons have keys; one UPDATE per batch sets it.
    pks = [household.pk for household in households]
    heads = Person.objects.filter(household=OuterRef("pk"), relation=HEAD).order_by("pk")
    Household.objects.filter(pk__gte=min(pks), pk__lte=max(pks)).update(
        head=Subquery(heads.values("pk")[:1])
    )
    return len(pending)


# Party classes in the order they are drawn: the elderly (F) before C, so C cannot use them up.
# Values: (youngest, oldest, joined at the youngest, joined at the oldest).
CLASS_AGES: dict[str, tuple[int, int, int, int]] = {
    MemberClass.A: (35, 60, 22, 35),
    MemberClass.B: (28, 62, 22, 38),
    MemberClass.F: (72, 120, 20, 40),
    MemberClass.D: (20, 50, 18, 30),
    MemberClass.E: (25, 65, 20, 45),
    MemberClass.C: (18, 75, 18, 50),
}

Adult = tuple[int, str, date, int]  # (person pk, gender, birth date, household pk)


class AdultPicker:
    """Draws distinct adults of one village in a shuffled order.

    Rural party members are about 70 % men and each class has its own age band; a second pass
    drops both preferences so a small village still fills its posts.
    """

    def __init__(self, adults: list[Adult], rng: random.Random) -> None:
        self.adults = adults
        self.rng = rng
        rng.shuffle(self.adults)
        self.taken: set[int] = set()

    def pick(self, count: int, youngest: int, oldest: int) -> list[Adult]:
        chosen: list[Adult] = []
        for strict in (True, False):
            for adult in self.adults:
                if len(chosen) >= count:
                    return chosen
                if adult[0] in self.taken:
                    continue
                if strict:
                    age = age_on(adult[2])
                    if not youngest <= age <= oldest:
                        continue
                    if adult[1] != MALE and self.rng.random() > 0.45:
                        continue
                self.taken.add(adult[0])
                chosen.append(adult)
        return chosen


def build_party(build: Build) -> None:
    """Party members, ~6–8 % of adults, in classes A–F (M5), most linked to 3–8 households."""
    villages = _villages()
    one_shoulder = one_shoulder_codes(build, [v.code for v in villages])
    total = sum(
        _party_of_village(build, village, village.code in one_shoulder) for village in villages
    )
    build.out(f"  party members: {total:,}")


def _party_of_village(build: Build, village: Region, is_one_shoulder: bool) -> int:
    rng = build.rng("party", village.code)
    adults = list(
        Person.objects.filter(region__parent=village, **_born_between(120, 18))
        .order_by("pk")
        .values_list("pk", "gender", "birth_date", "household_id")
    )
    households = list(
        Household.objects.filter(region__parent=village).order_by("pk").values_list("pk", flat=True)
    )
    picker = AdultPicker(adults, rng)
    size = max(6, stochastic_round(len(adults) * rng.uniform(0.06, 0.08), rng))
    plan = {
        MemberClass.A: 1 if is_one_shoulder else 2,  # the secretary, and the chair if separate
        MemberClass.B: 1 + rng.randint(1, 2),  # deputy secretary and branch committee members
        MemberClass.D: stochastic_round(size * 0.10, rng),
        MemberClass.E: stochastic_round(size * 0.05, rng),
        MemberClass.F: stochastic_round(size * 0.15, rng),
    }
    plan[MemberClass.C] = max(0, size - sum(plan.values()))
    branch = f"{village.name}党支部" if village.kind == "村" else f"{village.name}党委"
    members: list[PartyMember] = []
    linked: list[list[int]] = []
    for member_class, (youngest, oldest, join_low, join_high) in CLASS_AGES.items():
        for person_id, _gender, birth, own_household in picker.pick(
            plan[member_class], youngest, oldest
        ):
            age = age_on(birth)
            earliest = min(join_low, age)
            join_age = rng.randint(earliest, max(earliest, min(join_high, age)))
            joined = years_after(birth, join_age) + timedelta(days=rng.randrange(300))
            members.append(
                PartyMember(
                    person_id=person_id,
                    region=village,
                    branch=branch,
                    member_class=member_class,
                    joined_on=min(joined, REFERENCE_DATE),
                )
            )
            # 一联二亮三评 (seeds/003): members at home each look after a few households;
            # those who moved away (D) or are too frail (F) do not.
            if member_class in (MemberClass.D, MemberClass.F):
                linked.append([])
            else:
                drawn = rng.sample(households, min(9, len(households)))
                linked.append([h for h in drawn if h != own_household][: rng.randint(3, 8)])
    PartyMember.objects.bulk_create(members)
    link_model = PartyMember.linked_households.through
    link_model.objects.bulk_create(
        [
            link_model(partymember_id=member.pk, household_id=household_id)
            for member, household_ids in zip(members, linked, strict=True)
            for household_id in household_ids
        ],
        batch_size=build.batch_size,
    )
    return len(members)


def build_cadres(build: Build) -> None:
    """The two committees (村“两委”) of every 村社, drawn from its own residents."""
    villages = _villages()
    one_shoulder = one_shoulder_codes(build, [v.code for v in villages])
    cadres: list[Cadre] = []
    for village in villages:
        cadres += _cadres_of_village(build, village, village.code in one_shoulder)
    Cadre.objects.bulk_create(cadres, batch_size=build.batch_size)
    build.out(f"  cadres: {len(cadres):,} ({len(one_shoulder)} 村社 with 一肩挑)")


def _cadres_of_village(build: Build, village: Region, is_one_shoulder: bool) -> list[Cadre]:
    rng = build.rng("cadres", village.code)
    # build_party made the secretary (and a separate chair) class A and the rest of the branch
    # committee class B, in this order.
    leaders = PartyMember.objects.filter(region=village).order_by("pk")
    class_a = list(leaders.filter(member_class=MemberClass.A).values_list("person_id", flat=True))
    class_b = list(leaders.filter(member_class=MemberClass.B).values_list("person_id", flat=True))
    posts = [(class_a[0], CadrePost.SECRETARY, is_one_shoulder)]
    if not is_one_shoulder and len(class_a) > 1:
        posts.append((class_a[1], CadrePost.CHAIR, False))
    if class_b:
        posts.append((class_b[0], CadrePost.DEPUTY_SECRETARY, False))
    posts += [(person_id, CadrePost.BRANCH_MEMBER, False) for person_id in class_b[1:]]
    # 2–4 committee members in all; those not on the branch committee need not be members.
    wanted = max(0, rng.randint(2, 4) - len(class_b[1:]))
    outside = list(
        Person.objects.filter(
            region__parent=village, party_member__isnull=True, **_born_between(60, 25)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    posts += [
        (person_id, CadrePost.COMMITTEE_MEMBER, False)
        for person_id in rng.sample(outside, min(wanted, len(outside)))
    ]
    return [
        Cadre(
            person_id=person_id,
            region=village,
            post=post,
            is_one_shoulder=flag,
            since=_in_post_since(rng),
        )
        for person_id, post, flag in posts
    ]


def _in_post_since(rng: random.Random) -> date:
    # Most took office at the 2020–21 election (seeds/001); a few joined later.
    if rng.random() < 0.85:
        return _random_date(rng, date(2020, 11, 1), date(2021, 3, 31))
    return _random_date(rng, date(2021, 4, 1), date(2025, 6, 30))


def build_grid_posts(build: Build) -> None:
    """Each grid a 网格员 and a 网格长 from its residents; each 村社 its secretary as 总网格长."""
    posts: list[GridPost] = []
    for village in _villages():
        rng = build.rng("grid-posts", village.code)
        residents: dict[int, list[int]] = {}
        working_age = Person.objects.filter(region__parent=village, **_born_between(65, 22))
        for person_id, grid_id in working_age.order_by("pk").values_list("pk", "region_id"):
            residents.setdefault(grid_id, []).append(person_id)
        for grid_id in (
            Region.objects.filter(parent=village, level=Level.GRID)
            .order_by("code")
            .values_list("pk", flat=True)
        ):
            candidates = residents.get(grid_id) or list(
                Person.objects.filter(region_id=grid_id).order_by("pk").values_list("pk", flat=True)
            )
            if not candidates:
                continue
            chosen = rng.sample(candidates, min(2, len(candidates)))
            member, leader = chosen[0], chosen[-1]
            posts.append(GridPost(region_id=grid_id, person_id=member, post=GridPostKind.MEMBER))
            posts.append(GridPost(region_id=grid_id, person_id=leader, post=GridPostKind.LEADER))
        secretary = Cadre.objects.filter(region=village, post=CadrePost.SECRETARY).values_list(
            "person_id", flat=True
        )
        posts += [
            GridPost(region=village, person_id=pid, post=GridPostKind.CHIEF) for pid in secretary
        ]
    GridPost.objects.bulk_create(posts, batch_size=build.batch_size)
    build.out(f"  grid posts: {len(posts):,}")


# Username → what it demonstrates; the order of the printed table.
DEMO_LOGINS: tuple[str, ...] = (
    "county",
    "township",
    "dept",
    "police",
    "secretary",
    "committee",
    "grid",
    "review",
    "store",
    "villager",
    "root",
)


def build_logins(build: Build) -> None:
    """One login per role, all with DEMO_PASSWORD, scoped to the first township/村社/grid."""
    User = get_user_model()
    county = Region.objects.get(code=COUNTY_CODE)
    township = Region.objects.filter(parent=county, level=Level.TOWNSHIP).order_by("code").first()
    village = Region.objects.filter(parent=township, level=Level.VILLAGE).order_by("code").first()
    grid = Region.objects.filter(parent=village, level=Level.GRID).order_by("code").first()
    department = Department.objects.filter(county=county, code="organization").first()
    household = (
        Household.objects.filter(region=grid).order_by("number").select_related("head").first()
    )

    def cadre_person(*posts: str) -> Person | None:
        cadre = (
            Cadre.objects.filter(region=village, post__in=posts)
            .order_by("pk")
            .select_related("person")
            .first()
        )
        return cadre.person if cadre else None

    def cadre_name(*posts: str) -> str:
        person = cadre_person(*posts)
        return person.name if person else ""

    grid_member = (
        GridPost.objects.filter(region=grid, post=GridPostKind.MEMBER)
        .select_related("person")
        .first()
    )

    # Every demo login has the same password: hashed once, not ten times (a second and a half).
    password = make_password(DEMO_PASSWORD)

    def login(username: str, role: str | None, first_name: str = "", **anchor) -> object:
        user = User.objects.create_user(username=username, first_name=first_name)
        user.password = password
        user.save(update_fields=["password"])
        if role is not None:
            RoleAssignment.objects.create(user=user, role=role, **anchor)
        return user

    def branch_login(username: str, role: str, *posts: str) -> None:
        # The branch committee's logins are the residents who hold those posts, so that nobody
        # rates themselves in the branch's evaluations (evaluations.pools).
        person = cadre_person(*posts)
        user = login(username, role, person.name if person else "", region=village)
        Profile.objects.create(user=user, person=person)

    # The county admin manages logins and records in the console, inside its county; it is not
    # staff: the Django admin is the superuser's alone (it has no scope).
    # Logins of an office carry its name, so that pages name them as people read them.
    login("county", Role.COUNTY_ADMIN, f"{county.name}委组织部", region=county)

    login("township", Role.TOWNSHIP_STAFF, f"{township.name}党工委", region=township)
    login("dept", Role.DEPARTMENT_SCORER, department.name, department=department)
    branch_login("secretary", Role.VILLAGE_SECRETARY, CadrePost.SECRETARY)
    branch_login(
        "committee", Role.VILLAGE_COMMITTEE, CadrePost.COMMITTEE_MEMBER, CadrePost.BRANCH_MEMBER
    )
    login("grid", Role.GRID_MEMBER, grid_member.person.name if grid_member else "", region=grid)
    login("review", Role.REVIEW_MEMBER, cadre_name(CadrePost.DEPUTY_SECRETARY), region=village)
    login("store", Role.STORE_KEEPER, f"{village.name}积分超市", region=village)
    head_name = household.head.name if household and household.head else ""
    login("villager", Role.VILLAGER, head_name, region=grid, household=household)
    root = User.objects.create_superuser(username="root", email="")
    root.password = password
    root.save(update_fields=["password"])
    build.out(f"  logins: {User.objects.filter(username__in=DEMO_LOGINS).count()}")


STEPS: list[Callable[[Build], None]] = [
    build_regions,
    build_departments,
    build_households,
    build_party,
    build_cadres,
    build_grid_posts,
    build_logins,
    build_household_book,
    build_natural_villages,
    build_visits,  # before the scoring: October's closes take coverage from the visits
    build_scoring,
    build_evaluations,  # rounds open now, a panel, meetings: after the scoring's closes
    build_postings,
    build_store,
    build_inbox,
    build_problems,
    build_reports,
    build_election,
]


def demo_exists() -> bool:
    return Region.objects.filter(code=COUNTY_CODE).exists()


def demo_build(build: Build) -> None:
    """Run every step, each in its own transaction, and record one audit row at the end.

    A step that commits as it goes (many short transactions rather than one long one) says so
    with `manages_transactions = True` and runs outside the wrapper.
    """
    for step in STEPS:
        started = build.said_at = time.monotonic()
        if getattr(step, "scores_only", False) and not build.scores:
            continue
        if getattr(step, "manages_transactions", False):
            step(build)
        else:
            with transaction.atomic(durable=True):
                step(build)
        build.out(f"{step.__name__}: {time.monotonic() - started:.1f} s")
    with transaction.atomic(durable=True):
        audit_record(
            actor=None,
            action="demo.built",
            region_code=COUNTY_CODE,
            object_repr=COUNTY_NAME,
            after={"seed": build.seed, "households": build.households},
        )


def login_rows() -> list[tuple[str, str, str]]:
    """(username, role, scope) of the demo logins that exist, in DEMO_LOGINS order."""
    users = {
        user.username: user
        for user in get_user_model()
        .objects.filter(username__in=DEMO_LOGINS)
        .prefetch_related(
            "role_assignments__region",
            "role_assignments__department",
            "role_assignments__household",
        )
    }
    rows = []
    for username in DEMO_LOGINS:
        user = users.get(username)
        if user is None:
            continue
        if user.is_superuser:
            rows.append((username, "superuser", "system configuration"))
        for assignment in user.role_assignments.all():
            if assignment.department is not None:
                scope = f"{assignment.department.name} ({assignment.department.code})"
            elif assignment.household is not None:
                scope = f"{assignment.region.name}, household {assignment.household.number}"
            else:
                scope = f"{assignment.region.name} ({assignment.region.code})"
            if user.first_name:
                scope += f" · {user.first_name}"
            rows.append((username, assignment.role, scope))
    return rows


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    """Plain-text columns that stay aligned with Chinese (double-width) characters."""

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)
        ).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(row) for row in rows)]
