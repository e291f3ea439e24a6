import random
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_number_problem
from kaoping.demo import generator
from kaoping.demo.generator import (
    DEMO_PASSWORD,
    GRID_MAX,
    GRID_MIN,
    PROGRESS_SECONDS,
    Build,
    estimate,
    grid_sizes,
    village_household_counts,
)
from kaoping.demo.names import DEPARTMENTS, TOWNSHIPS
from kaoping.demo.people import MALE, IdNumbers, ResidentFactory, years_after
from kaoping.demo.reset import _wiped_models, deletion_plan
from kaoping.people.models import Cadre, GridPost, Household, PartyMember, Person
from kaoping.regions.models import Cluster, Department, Region
from kaoping.testing import built_once

SMALL = 1500


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--households", str(SMALL), "--without-scores", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [
        Region,
        Cluster,
        Department,
        Household,
        Person,
        PartyMember,
        Cadre,
        GridPost,
        RoleAssignment,
    ]
    result = {model.__name__: model.objects.count() for model in models}
    result["users"] = get_user_model().objects.count()
    result["last person"] = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    return result


@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker):
    with built_once(django_db_blocker):
        yield demo()


@pytest.mark.django_db
class TestOneBuild:
    """What one build makes, read by several tests: built once for them (with its output) in a
    transaction rolled back after the last of them, each test in a savepoint inside it."""

    def test_demo_builds_the_ouhai_structure(self, built):
        villages = Region.objects.filter(level="village")
        assert Region.objects.filter(level="county").get().code == "330304"
        assert Region.objects.filter(level="township").count() == 13
        assert villages.count() == 190
        assert villages.filter(kind="社区", name__endswith="社区").count() == 39
        assert villages.filter(kind="村", name__endswith="村").count() == 151
        assert all(int(v.code[-3:]) < 100 for v in villages.filter(kind="社区"))
        assert all(int(v.code[-3:]) >= 200 for v in villages.filter(kind="村"))
        assert all(v.code.startswith(v.parent.code) for v in villages.select_related("parent"))
        assert len({v.name for v in villages}) == 190
        assert (
            Counter(villages.values_list("parent__code", flat=True)).most_common()[-1][1] < 10
        )  # uneven

        assert Cluster.objects.count() == 54
        for cluster in Cluster.objects.prefetch_related("villages"):
            assert 3 <= len(cluster.villages.all()) <= 4
            assert len({v.parent_id for v in cluster.villages.all()}) == 1
        assert villages.annotate(n=Count("clusters")).filter(n=1).count() == 190

        assert Department.objects.count() == 95
        assert list(Department.objects.order_by("pk").values_list("name", flat=True)[:3]) == [
            "区委组织部",
            "区委政法委",
            "区纪委监委",
        ]
        assert all(d.villages.count() == 2 for d in Department.objects.all())
        assert not villages.filter(departments__isnull=True).exists()

    def test_demo_builds_households_residents_and_grids(self, built):
        assert Household.objects.count() == SMALL
        sizes = Counter(Household.objects.annotate(n=Count("members")).values_list("n", flat=True))
        assert set(sizes) == {1, 2, 3, 4, 5, 6}
        assert not Household.objects.filter(head__isnull=True).exists()
        assert set(Household.objects.values_list("head__relation", flat=True)) == {"户主"}
        assert not Household.objects.exclude(region__level="grid").exists()
        for village in Region.objects.filter(level="village").annotate(
            n=Count("children__households")
        ):
            per_grid = [g.households.count() for g in village.children.all()]
            assert sum(per_grid) == village.n >= 3
            if village.n < GRID_MIN:
                assert len(per_grid) == 1
            else:
                assert all(GRID_MIN <= n <= GRID_MAX for n in per_grid)

        persons = list(
            Person.objects.values_list(
                "name", "initials", "id_number", "gender", "birth_date", "region__level"
            )
        )
        ids = [p[2] for p in persons]
        assert len(set(ids)) == len(ids) == Person.objects.count() > 2.5 * SMALL
        for _name, _initials, id_number, gender, birth, level in persons:
            assert id_number_problem(id_number) is None
            assert id_number.startswith("330304") and id_number[6:14] == f"{birth:%Y%m%d}"
            assert int(id_number[16]) % 2 == (1 if gender == MALE else 0)
            assert birth < date(2026, 1, 1) and level == "grid"
        assert all(initials(p[0]) == p[1] for p in persons[:500])
        adults = Person.objects.filter(birth_date__lte=date(2008, 1, 1))
        assert adults.exclude(phone="").count() > 0.75 * adults.count()
        assert all(
            len(p) == 11 and p[:2] in {"13", "15", "18", "19"}
            for p in adults.exclude(phone="").values_list("phone", flat=True)
        )

        for grid in Region.objects.filter(level="grid"):
            assert sorted(grid.grid_posts.values_list("post", flat=True)) == ["leader", "member"]
            assert all(
                p.region_id == grid.pk for p in Person.objects.filter(grid_posts__region=grid)
            )
        assert GridPost.objects.filter(post="chief", region__level="village").count() == 190

    def test_demo_builds_party_members_and_two_committees(self, built):
        classes = Counter(PartyMember.objects.values_list("member_class", flat=True))
        assert set(classes) == set("ABCDEF")
        assert classes["A"] == 190 + 40  # every secretary, and the chair where it is not 一肩挑
        assert not PartyMember.objects.exclude(region=F("person__region__parent")).exists()
        linked = PartyMember.objects.annotate(n=Count("linked_households"))
        assert not linked.filter(member_class__in="DF", n__gt=0).exists()
        assert (
            linked.filter(member_class__in="ABCE", n__gte=3, n__lte=8).count()
            > 0.8 * linked.filter(member_class__in="ABCE").count()
        )
        for member in PartyMember.objects.select_related("person").prefetch_related(
            "linked_households__region"
        ):
            assert all(
                h.region.parent_id == member.region_id for h in member.linked_households.all()
            )
            assert member.joined_on >= years_after(member.person.birth_date, 18)

        assert Cadre.objects.filter(post="secretary").count() == 190
        assert Cadre.objects.filter(is_one_shoulder=True).count() == 150
        assert Cadre.objects.filter(post="chair").count() == 40
        assert not Cadre.objects.exclude(region=F("person__region__parent")).exists()
        secretaries = PartyMember.objects.filter(
            person__cadre_posts__post__in=["secretary", "chair"]
        )
        assert set(secretaries.values_list("member_class", flat=True)) == {"A"}
        for village in Region.objects.filter(level="village").annotate(n=Count("cadres")):
            assert 4 <= village.n <= 7
            chief = GridPost.objects.get(region=village, post="chief")
            assert Cadre.objects.filter(
                region=village, post="secretary", person=chief.person
            ).exists()

    def test_demo_logins_have_their_roles_and_scopes(self, built):
        out = built
        village = Region.objects.get(code="330304001001")
        grid = Region.objects.get(code="330304001001001")
        expected = {
            "county": (Role.COUNTY_ADMIN, "330304"),
            "township": (Role.TOWNSHIP_STAFF, "330304001"),
            "secretary": (Role.VILLAGE_SECRETARY, village.code),
            "committee": (Role.VILLAGE_COMMITTEE, village.code),
            "grid": (Role.GRID_MEMBER, grid.code),
            "review": (Role.REVIEW_MEMBER, village.code),
            "store": (Role.STORE_KEEPER, village.code),
            "villager": (Role.VILLAGER, grid.code),
        }
        User = get_user_model()
        for username, (role, code) in expected.items():
            user = User.objects.get(username=username)
            assert user.check_password(DEMO_PASSWORD)
            assert [(a.role, a.region.code) for a in user.role_assignments.all()] == [(role, code)]
            assert username in out
        dept = User.objects.get(username="dept").role_assignments.get()
        assert (dept.role, dept.department.code, dept.department.name) == (
            Role.DEPARTMENT_SCORER,
            "organization",
            "区委组织部",
        )

        secretary = Cadre.objects.get(region=village, post="secretary")
        assert User.objects.get(username="secretary").first_name == secretary.person.name
        committee_names = Cadre.objects.filter(
            region=village, post__in=["committee_member", "branch_member"]
        )
        assert User.objects.get(username="committee").first_name in committee_names.values_list(
            "person__name", flat=True
        )
        villager = User.objects.get(username="villager").role_assignments.get()
        assert villager.household.region_id == grid.pk
        assert User.objects.get(username="villager").first_name == villager.household.head.name

        county = User.objects.get(username="county")
        # The Django admin is the superuser's alone; the county admin works in the console.
        assert not county.is_staff and not county.is_superuser
        assert not county.groups.exists() and not county.has_perm("people.change_person")
        root = User.objects.get(username="root")
        assert root.is_superuser and not root.role_assignments.exists()

    def test_the_build_starts_with_an_estimate_and_reports_progress_every_few_seconds(
        self, built, monkeypatch
    ):
        assert built.splitlines()[0].startswith(
            f"building 瓯海区: {SMALL:,} households, seed 1; about"
        )
        assert estimate(20_000).endswith(" s") and estimate(100_000).endswith(" min")
        lines: list[str] = []
        build = Build(out=lines.append)
        now = build.said_at
        monkeypatch.setattr(generator.time, "monotonic", lambda: now)
        build.progress("too soon")
        now += PROGRESS_SECONDS
        build.progress("5 s on")
        build.progress("too soon again")
        assert lines == ["5 s on"]


@pytest.mark.django_db
def test_same_seed_same_data_rerun_changes_nothing_and_rebuild_starts_over():
    demo()
    first = list(Person.objects.order_by("pk").values_list("name", "id_number")[:20])
    before = counts()

    out = demo()
    assert "demo county already exists" in out and "secretary" in out
    assert counts() == before

    demo("--rebuild")
    assert list(Person.objects.order_by("pk").values_list("name", "id_number")[:20]) == first
    assert {k: v for k, v in counts().items() if k != "last person"} == {
        k: v for k, v in before.items() if k != "last person"
    }

    demo("--rebuild", "--seed", "2")
    assert list(Person.objects.order_by("pk").values_list("name", "id_number")[:20]) != first
    assert Region.objects.filter(level="village").count() == 190


@pytest.mark.django_db
def test_too_few_households_is_refused():
    with pytest.raises(CommandError, match="at least 570"):
        call_command("demo", "--households", "100", "--without-scores", stdout=StringIO())
    assert not Region.objects.exists()


def test_the_place_table_matches_the_report():
    assert sum(len(t.communities) for t in TOWNSHIPS) == 39
    assert sum(len(t.villages) for t in TOWNSHIPS) == 151
    assert sum(t.clusters for t in TOWNSHIPS) == 54
    assert len(DEPARTMENTS) == len(set(DEPARTMENTS)) == 95
    # Departments help pairs of 村社 in code order; even townships keep each pair in one.
    assert all((len(t.communities) + len(t.villages)) % 2 == 0 for t in TOWNSHIPS)


def test_grid_sizes_stay_between_30_and_50():
    rng = random.Random(1)
    for households in range(1, 3000):
        sizes = grid_sizes(households, rng)
        assert sum(sizes) == households
        if households <= GRID_MAX:
            assert sizes == [households]
        elif households >= 2 * GRID_MIN:
            assert all(GRID_MIN <= size <= GRID_MAX for size in sizes)


@pytest.mark.parametrize("total", [570, 1500, 9_000, 10_450, 11_400, 20_000, 1_000_000])
def test_village_sizes_sum_up_spread_out_and_can_be_gridded(total):
    rng = random.Random(total)
    weights = [rng.triangular(0.5, 1.8, 0.9) for _ in range(190)]
    sizes = village_household_counts(total, weights)
    assert sum(sizes) == total and min(sizes) >= 3
    assert not [size for size in sizes if 50 < size < 60]
    if total >= 20_000:
        mean = total / 190
        assert 0.4 < min(sizes) / mean < 0.7 and 1.4 < max(sizes) / mean < 1.8


def test_id_numbers_stay_unique_when_a_birth_date_is_full():
    ids = IdNumbers("330304")
    issued = [ids.issue(date(1980, 5, 1), MALE) for _ in range(1200)]
    numbers = [number for number, _birth in issued]
    assert len(set(numbers)) == 1200
    assert all(id_number_problem(number) is None for number in numbers)
    assert {birth for _n, birth in issued} == {
        date(1980, 5, 1),
        date(1980, 4, 30),
        date(1980, 4, 29),
    }


def test_name_initials_from_the_tables_match_pypinyin():
    factory = ResidentFactory("330304")
    rng = random.Random(7)
    residents = [r for _ in range(2000) for r in factory.household(rng, "陈")]
    assert all(initials(r.name) == r.initials for r in residents)


def test_rebuild_deletes_referrers_first_and_breaks_the_household_head_cycle():
    cleared, order = deletion_plan(_wiped_models())
    assert [f"{f.model.__name__}.{f.name}" for f in cleared] == ["Household.head"]
    position = {model: index for index, model in enumerate(order)}
    assert position[PartyMember] < position[Person] < position[Household] < position[Region]
    assert position[RoleAssignment] < position[get_user_model()]


@pytest.mark.django_db
def test_villages_big_enough_are_split_into_grids_of_30_to_50():
    call_command("demo", "--households", "9000", "--without-scores", stdout=StringIO())
    split = 0
    for village in Region.objects.filter(level="village").prefetch_related("children"):
        per_grid = [grid.households.count() for grid in village.children.all()]
        if sum(per_grid) >= GRID_MIN:
            assert all(GRID_MIN <= n <= GRID_MAX for n in per_grid), village.name
        split += len(per_grid) > 1
    assert split > 50
    for village in Region.objects.filter(level="village").prefetch_related("children")[:20]:
        codes = [grid.code for grid in village.children.all()]
        assert codes == [f"{village.code}{n:03d}" for n in range(1, len(codes) + 1)]
