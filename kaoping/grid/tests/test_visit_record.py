import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from kaoping.core.audit import AuditLog
from kaoping.core.errors import KaopingError
from kaoping.grid.models import Visit, VisitEvidence, VisitKind
from kaoping.grid.services import visit_record
from kaoping.people.models import BookChange, GridPost, HouseholdTag, HouseholdTagSpan


def households_of(county, grid_code):
    return [h for h in county.households.values() if h.region.code == grid_code]


@pytest.fixture
def home(county):
    return households_of(county, "330304001001001")[0]


def photo(name="p.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def nothing_written():
    return (
        Visit.objects.count() == 0
        and BookChange.objects.count() == 0
        and VisitEvidence.objects.count() == 0
        and not AuditLog.objects.filter(action="grid.visit.recorded").exists()
    )


def test_visit_records_met_changes_photo_and_one_audit_row(county, home):
    dave = county.users["dave"]
    members = list(home.members.order_by("id"))
    spouse = members[1]
    tag = HouseholdTag.objects.create(region=county.region("330304"), name="低保", code="dibao")
    visit = visit_record(
        household=home,
        acting_user=dave,
        kind=VisitKind.IN_PERSON,
        met=[members[0]],
        note="家中一切正常",
        changes=[{"kind": "moved_out", "person": spouse.pk}, {"kind": "tag_added", "tag": tag.pk}],
        files=[photo()],
        latitude="27.994000",
        longitude="120.699000",
        idempotency_key="k1",
    )
    assert visit.grid == home.region
    assert visit.visited_on == timezone.localdate()
    assert visit.visitor_post == "member"  # dave's role: he has no resident behind his login
    assert list(visit.met.all()) == [members[0]]
    spouse.refresh_from_db()
    assert spouse.status == "moved_out"
    changes = BookChange.objects.filter(household=home)
    assert {c.kind for c in changes} == {"moved_out", "tag_added"}
    assert all(c.visit_id == visit.pk and c.made_by == dave for c in changes)
    assert HouseholdTagSpan.objects.filter(household=home, tag=tag, until__isnull=True).exists()
    photo_row = VisitEvidence.objects.get(visit=visit)
    assert photo_row.content_type == "image/jpeg" and photo_row.file.name.startswith("evidence/")
    assert AuditLog.objects.filter(action="grid.visit.recorded").count() == 1


def test_same_key_returns_the_first_visit_and_writes_nothing_more(county, home):
    dave = county.users["dave"]
    spouse = home.members.order_by("id")[1]
    first = visit_record(
        household=home,
        acting_user=dave,
        kind=VisitKind.PHONE,
        changes=[{"kind": "away", "person": spouse.pk}],
        idempotency_key="same",
    )
    again = visit_record(
        household=home,
        acting_user=dave,
        kind=VisitKind.PHONE,
        changes=[{"kind": "away", "person": spouse.pk}],
        idempotency_key="same",
    )
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    assert BookChange.objects.count() == 1
    assert AuditLog.objects.filter(action="grid.visit.recorded").count() == 1


def test_same_key_for_another_household_is_refused(county, home):
    dave = county.users["dave"]
    other = households_of(county, "330304001001001")[1]
    visit_record(household=home, acting_user=dave, idempotency_key="x")
    with pytest.raises(KaopingError):
        visit_record(household=other, acting_user=dave, idempotency_key="x")
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("username", ["oscar", "erin", "grace", "alice", "bob"])
def test_refused_outside_scope_or_role_leaves_nothing(county, home, username):
    with pytest.raises(PermissionDenied):
        visit_record(
            household=home,
            acting_user=county.users[username],
            note="x",
            idempotency_key="r",
        )
    assert nothing_written()


def test_dave_may_not_visit_the_second_grid(county):
    other_grid = households_of(county, "330304001001002")[0]
    with pytest.raises(PermissionDenied):
        visit_record(household=other_grid, acting_user=county.users["dave"], idempotency_key="o")
    assert nothing_written()


def test_secretary_and_committee_visit_their_village(county):
    other_grid = households_of(county, "330304001001002")[0]
    for username in ("carol", "clara"):
        visit = visit_record(
            household=other_grid, acting_user=county.users[username], idempotency_key=username
        )
        assert visit.visitor_post == ""
    assert Visit.objects.count() == 2


def test_a_bad_change_undoes_the_whole_visit(county, home):
    stranger = households_of(county, "330304001001002")[0].members.first()
    with pytest.raises(KaopingError):
        visit_record(
            household=home,
            acting_user=county.users["dave"],
            changes=[{"kind": "moved_out", "person": stranger.pk}],
            idempotency_key="bad",
        )
    assert nothing_written()


def test_a_book_change_needs_people_change(county):
    # clara (committee) may visit but not edit the book: the visit with a change is refused whole.
    other_grid = households_of(county, "330304001001002")[0]
    spouse = other_grid.members.order_by("id")[1]
    with pytest.raises(PermissionDenied):
        visit_record(
            household=other_grid,
            acting_user=county.users["clara"],
            changes=[{"kind": "away", "person": spouse.pk}],
            idempotency_key="c",
        )
    assert nothing_written()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("visited_on", {"visited_on": timezone.localdate() + timedelta(days=1)}),
        ("visited_on", {"visited_on": timezone.localdate() - timedelta(days=40)}),
        ("kind", {"kind": "pigeon"}),
        ("note", {"note": "a\x00b"}),
        ("latitude", {"latitude": "27.1"}),
        ("latitude", {"latitude": "95", "longitude": "10"}),
        ("idempotency_key", {"idempotency_key": "k" * 65}),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(county, home, field, kwargs):
    arguments = {"idempotency_key": "v", **kwargs}
    with pytest.raises(KaopingError) as caught:
        visit_record(household=home, acting_user=county.users["dave"], **arguments)
    assert field in caught.value.message_dict
    assert nothing_written()


def test_met_must_be_members_of_the_household(county, home):
    stranger = households_of(county, "330304001001002")[0].members.first()
    with pytest.raises(KaopingError) as caught:
        visit_record(
            household=home, acting_user=county.users["dave"], met=[stranger], idempotency_key="m"
        )
    assert "met" in caught.value.message_dict
    assert nothing_written()


def test_a_refused_photo_writes_nothing(county, home):
    bad = SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")
    with pytest.raises(KaopingError):
        visit_record(
            household=home, acting_user=county.users["dave"], files=[bad], idempotency_key="p"
        )
    assert nothing_written()


def test_visitor_post_from_the_resident_behind_the_login(county, home):
    from kaoping.accounts.models import Profile

    dave = county.users["dave"]
    li = county.persons["李秀英"]  # the grid member post of grid 1 in the small county
    assert GridPost.objects.filter(person=li, post="member").exists()
    Profile.objects.update_or_create(user=dave, defaults={"person": li})
    dave.refresh_from_db()
    visit = visit_record(household=home, acting_user=dave, idempotency_key="p1")
    assert visit.visitor_person == li
    assert visit.visitor_post == "member"


def test_a_three_heads_post_visits_its_own_households_only(county, home):
    """A 三长 (片长/组长/邻长) login works the households of its post, not the whole village."""
    from django.contrib.auth import get_user_model

    from kaoping.accounts.models import Role, RoleAssignment
    from kaoping.grid.selectors import round_of
    from kaoping.people.models import HouseholdPost

    village = county.region("330304001001")
    holder = households_of(county, "330304001001002")[0].head
    post = HouseholdPost.objects.create(region=village, person=holder, post="group")
    post.households.set([home])
    user = get_user_model().objects.create_user(username="sanzhang", password="pw")
    RoleAssignment.objects.create(
        user=user, role=Role.GRID_MEMBER, region=village, household_post=post
    )
    the_round = round_of(user=user, today=timezone.localdate())
    assert [r.household.pk for g in the_round.grids for r in g.households] == [home.pk]
    visit = visit_record(household=home, acting_user=user, idempotency_key="s1")
    assert visit.visitor_post == "group"
    neighbour = households_of(county, "330304001001001")[1]
    with pytest.raises(PermissionDenied):
        visit_record(household=neighbour, acting_user=user, idempotency_key="s2")
    # Visits of the village's other households stay out of the post's sight.
    other = visit_record(household=neighbour, acting_user=county.users["dave"], idempotency_key="d")
    assert not Visit.objects.for_user(user, "visit.view").filter(pk=other.pk).exists()
    assert Visit.objects.for_user(user, "visit.view").filter(pk=visit.pk).exists()
