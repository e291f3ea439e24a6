"""The round, the visit form, a visit, the book and its booklets, for every persona."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from kaoping.grid.models import Visit
from kaoping.grid.services import visit_record
from kaoping.people.models import BookChange, Household, Person

GRID1 = "330304001001001"
GRID2 = "330304001001002"


def in_grid(county, code):
    return [h for h in county.households.values() if h.region.code == code]


@pytest.fixture
def home(county):
    return in_grid(county, GRID1)[0]


@pytest.fixture
def elsewhere(county):
    return in_grid(county, "330304002001001")[0]


def key_of(response):
    return re.search(rb'name="idempotency_key" value="([^"]+)"', response.content).group(1).decode()


def jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 0)).save(buffer, "JPEG")
    return SimpleUploadedFile("scene.jpg", buffer.getvalue(), content_type="image/jpeg")


# ─── the round ───


def test_round_lists_only_the_grid_members_households(county, client_for):
    client = client_for(county, "dave")
    response = client.get(reverse("grid:round"))
    assert response.status_code == 200
    shown = {r.household.pk for g in response.context["round"].grids for r in g.households}
    assert shown == {h.pk for h in in_grid(county, GRID1)}
    assert shown == set(Household.objects.filter(region__code=GRID1).values_list("pk", flat=True))


def test_round_puts_visited_households_last_and_marks_overdue(county, client_for, home):
    visit_record(household=home, acting_user=county.users["dave"], idempotency_key="r1")
    response = client_for(county, "dave").get(reverse("grid:round"))
    rows = response.context["round"].grids[0].households
    assert [r.household.pk for r in rows][-1] == home.pk
    assert rows[-1].done and not rows[-1].overdue
    assert not rows[0].done and rows[0].overdue  # never visited
    assert "330304001001001" in response.content.decode()  # the grid's filter link


def test_round_orders_grids_nearest_to_done_last(county, client_for):
    carol = county.users["carol"]
    done_grid = in_grid(county, GRID2)
    for n, household in enumerate(done_grid):
        visit_record(household=household, acting_user=carol, idempotency_key=f"d{n}")
    response = client_for(county, "carol").get(reverse("grid:round"))
    codes = [g.grid.code for g in response.context["round"].grids]
    assert codes == [GRID1, GRID2]


def test_round_search_by_name_and_number(county, client_for, home):
    client = client_for(county, "dave")
    head = home.head.name
    response = client.get(reverse("grid:round"), {"q": head})
    assert [r.household.pk for g in response.context["round"].grids for r in g.households] == [
        home.pk
    ]
    response = client.get(reverse("grid:round"), {"q": home.number[-4:]})
    assert response.context["round"].total == 1


def test_round_query_count_does_not_grow(county, client_for):
    client = client_for(county, "carol")
    client.get(reverse("grid:round"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("grid:round"))
    village = county.region(GRID1).parent
    for n in range(6):
        h = Household.objects.create(region=county.region(GRID1), number=f"X{n}")
        Person.objects.create(household=h, region=h.region, name=f"新户{n}")
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("grid:round"))
    assert len(more) == len(few)
    assert village.code == "330304001001"


@pytest.mark.parametrize(("username", "status"), [("alice", 403), ("erin", 403), ("grace", 403)])
def test_round_refused_without_visit_rights(county, client_for, username, status):
    assert client_for(county, username).get(reverse("grid:round")).status_code == status


def test_round_anonymous_goes_to_login(county, client_for):
    response = client_for(county, None).get(reverse("grid:round"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# ─── the visit form ───


@pytest.mark.parametrize(
    ("username", "where", "status"),
    [
        ("dave", "home", 200),
        ("carol", "home", 200),
        ("clara", "home", 200),
        ("dave", "grid2", 404),
        ("oscar", "home", 404),
        ("erin", "home", 404),
        ("alice", "home", 403),
        ("bob", "home", 403),
        ("dave", "elsewhere", 404),
    ],
)
def test_visit_form_personas(county, client_for, home, elsewhere, username, where, status):
    target = {"home": home, "elsewhere": elsewhere, "grid2": in_grid(county, GRID2)[0]}[where]
    response = client_for(county, username).get(reverse("grid:visit_new", args=[target.pk]))
    assert response.status_code == status


def test_visit_form_records_a_move_once(county, client_for, home):
    client = client_for(county, "dave")
    url = reverse("grid:visit_new", args=[home.pk])
    page = client.get(url)
    assert b'accept="image/*"' in page.content and b"grid/visit.js" in page.content
    assert b"<script>" not in page.content  # no inline script under the CSP
    head, spouse = home.members.order_by("id")
    body = {
        "idempotency_key": key_of(page),
        "visited_on": page.context["form"].initial["visited_on"].isoformat(),
        "met": [head.pk],
        f"act_{spouse.pk}": "moved_out",
        "note": "配偶外嫁",
        "photos": jpeg(),
    }
    response = client.post(url, body)
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grid:visit", args=[visit.pk]) + "?saved=1"
    spouse.refresh_from_db()
    assert spouse.status == "moved_out"
    assert BookChange.objects.get().visit_id == visit.pk
    assert visit.evidence.count() == 1
    done = client.get(response["Location"])
    assert f'data-visit-saved="kaoping-visit-{home.pk}"'.encode() in done.content
    problem = reverse("problems:raise", args=[home.pk]) + f"?visit={visit.pk}"
    assert problem.encode() in done.content  # a problem found on the visit, one tap away
    # The same form sent again (a lost answer, a double tap) records nothing more.
    body["photos"] = jpeg()
    again = client.post(url, body)
    assert again.status_code == 302 and Visit.objects.count() == 1
    assert BookChange.objects.count() == 1


def test_visit_form_phone_call_and_location(county, client_for, home):
    client = client_for(county, "dave")
    url = reverse("grid:visit_new", args=[home.pk])
    page = client.get(url)
    client.post(
        url,
        {
            "idempotency_key": key_of(page),
            "visited_on": page.context["form"].initial["visited_on"].isoformat(),
            "phone": "on",
            "latitude": "27.994100",
            "longitude": "120.699200",
        },
    )
    visit = Visit.objects.get()
    assert visit.kind == "phone" and str(visit.latitude) == "27.994100"


def test_visit_form_error_names_the_member_and_writes_nothing(county, client_for, home):
    client = client_for(county, "dave")
    url = reverse("grid:visit_new", args=[home.pk])
    page = client.get(url)
    head, spouse = home.members.order_by("id")
    response = client.post(
        url,
        {
            "idempotency_key": key_of(page),
            "visited_on": page.context["form"].initial["visited_on"].isoformat(),
            f"act_{head.pk}": "moved_out",  # the head leaves and no new head is named
        },
    )
    assert response.status_code == 200
    assert head.name in response.content.decode()
    assert Visit.objects.count() == 0 and BookChange.objects.count() == 0


def test_visit_form_refused_post_writes_nothing(county, client_for, home):
    client = client_for(county, "alice")
    response = client.post(
        reverse("grid:visit_new", args=[home.pk]),
        {"idempotency_key": "abc", "visited_on": "2026-01-01"},
    )
    assert response.status_code == 403
    assert Visit.objects.count() == 0


# ─── a visit, its photo ───


def test_visit_page_and_photo_personas(county, client_for, home):
    visit = visit_record(
        household=home, acting_user=county.users["dave"], files=[jpeg()], idempotency_key="v"
    )
    photo = visit.evidence.get()
    for username, status in (("dave", 200), ("carol", 200), ("alice", 200), ("oscar", 404)):
        client = client_for(county, username)
        assert client.get(reverse("grid:visit", args=[visit.pk])).status_code == status
        assert client.get(reverse("grid:visit_photo", args=[photo.pk])).status_code == status
    assert client_for(county, "erin").get(reverse("grid:visit", args=[visit.pk])).status_code == 404


# ─── the book ───


def test_book_shows_the_change_with_who_when_and_visit(county, client_for, home):
    spouse = home.members.order_by("id")[1]
    visit = visit_record(
        household=home,
        acting_user=county.users["dave"],
        changes=[{"kind": "moved_out", "person": spouse.pk}],
        note="走访记录",
        idempotency_key="b1",
    )
    response = client_for(county, "dave").get(reverse("grid:book", args=[home.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert spouse.name in text and "dave" in text
    assert reverse("grid:visit", args=[visit.pk]) in text
    assert response.context["former"] == [spouse]
    assert spouse.id_number not in text  # masked for a grid member


@pytest.mark.parametrize(
    ("username", "status"),
    [("dave", 200), ("carol", 200), ("alice", 200), ("bob", 200), ("oscar", 404), ("erin", 404)],
)
def test_book_personas(county, client_for, home, username, status):
    assert client_for(county, username).get(reverse("grid:book", args=[home.pk])).status_code == (
        status
    )


def test_household_page_links_to_the_book(county, client_for, home):
    response = client_for(county, "dave").get(reverse("people:household", args=[home.pk]))
    assert reverse("grid:book", args=[home.pk]).encode() in response.content


def test_booklet_pdfs(county, client_for, home):
    spouse = home.members.order_by("id")[1]
    visit_record(
        household=home,
        acting_user=county.users["dave"],
        changes=[{"kind": "away", "person": spouse.pk}],
        idempotency_key="pdf",
    )
    client = client_for(county, "dave")
    one = client.get(reverse("grid:book_pdf", args=[home.pk]))
    assert one.status_code == 200 and one["Content-Type"] == "application/pdf"
    assert one.content.startswith(b"%PDF")
    grid = client.get(reverse("grid:grid_books_pdf", args=[GRID1]))
    assert grid.status_code == 200 and grid.content.startswith(b"%PDF")
    assert client.get(reverse("grid:grid_books_pdf", args=[GRID2])).status_code == 404
    assert client_for(county, "oscar").get(
        reverse("grid:book_pdf", args=[home.pk])
    ).status_code == (404)


def test_booklet_masks_id_numbers(county, rf, home):
    from django.template.loader import render_to_string

    from kaoping.grid.book import book_context

    alice = county.users["alice"]  # may see the full ID number on the page, never in print
    books = [book_context(user=alice, household=home, recent_entries=None)]
    html = render_to_string("grid/book_pdf.html", {"books": books, "grid": None})
    head = home.head
    assert head.masked_id_number in html and head.id_number not in html


def test_book_query_count_does_not_grow_with_visits(county, client_for, home):
    dave = county.users["dave"]
    client = client_for(county, "dave")
    visit_record(household=home, acting_user=dave, idempotency_key="q0")
    client.get(reverse("grid:book", args=[home.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("grid:book", args=[home.pk]))
    spouse = home.members.order_by("id")[1]
    visit_record(
        household=home,
        acting_user=dave,
        changes=[{"kind": "away", "person": spouse.pk}],
        files=[jpeg()],
        idempotency_key="q1",
    )
    for n in range(2, 6):
        visit_record(household=home, acting_user=dave, idempotency_key=f"q{n}")
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("grid:book", args=[home.pk]))
    assert len(more) == len(few)


# ─── the visits of an area (a leader's view of the members' work) ───


def test_visit_list_is_scoped_and_filtered(county, client_for, home, elsewhere):
    mine = visit_record(household=home, acting_user=county.users["dave"], idempotency_key="l1")
    theirs = visit_record(
        household=elsewhere, acting_user=county.users["oscar"], idempotency_key="l2"
    )
    url = reverse("grid:visits")
    listed = lambda username, **query: [  # noqa: E731
        v.pk for v in client_for(county, username).get(url, query).context["page"]
    ]
    assert listed("dave") == [mine.pk]
    assert listed("carol") == [mine.pk]
    assert listed("oscar") == [theirs.pk]
    assert set(listed("alice")) == {mine.pk, theirs.pk}
    assert listed("alice", visitor=str(county.users["oscar"].pk)) == [theirs.pk]
    assert listed("alice", grid=GRID1) == [mine.pk]
    assert client_for(county, "erin").get(url).status_code == 403
    assert client_for(county, "alice").get(url, {"visitor": "x" * 30}).status_code == 200


def test_visit_list_query_count_does_not_grow(county, client_for, home):
    client = client_for(county, "carol")
    visit_record(household=home, acting_user=county.users["dave"], idempotency_key="c0")
    client.get(reverse("grid:visits"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("grid:visits"))
    for n, household in enumerate(in_grid(county, GRID2)):
        visit_record(
            household=household, acting_user=county.users["carol"], idempotency_key=f"c{n + 1}"
        )
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("grid:visits"))
    assert len(more) == len(few)


def test_visit_form_adds_a_newborn_and_a_tag(county, client_for, home):
    from kaoping.people.models import HouseholdTag, HouseholdTagSpan

    tag = HouseholdTag.objects.create(region=county.region("330304"), name="低保", code="dibao")
    client = client_for(county, "dave")
    url = reverse("grid:visit_new", args=[home.pk])
    page = client.get(url)
    assert f'name="tag_{tag.pk}"'.encode() in page.content
    response = client.post(
        url,
        {
            "idempotency_key": key_of(page),
            "visited_on": page.context["form"].initial["visited_on"].isoformat(),
            "new_name": "王小宝",
            "new_kind": "born",
            "new_relation": "子",
            "new_gender": "M",
            f"tag_{tag.pk}": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    baby = Person.objects.get(name="王小宝")
    assert baby.household_id == home.pk
    visit = Visit.objects.get()
    assert set(BookChange.objects.filter(visit_id=visit.pk).values_list("kind", flat=True)) == {
        "born",
        "tag_added",
    }
    assert HouseholdTagSpan.objects.filter(household=home, tag=tag, until__isnull=True).exists()
