"""Review queue, grid batch form and my entries, by persona."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.ledger.models import Entry
from kaoping.ledger.services import entry_record
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync

from .ledger_fixture import GRID, add_reviewer, fill_grid, load_household_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def hh(county):
    fill_grid(county, 6)
    scheme = load_household_scheme(county)
    add_reviewer(county)
    return scheme


def grid_subjects():
    return list(
        Subject.objects.filter(kind="household", region__code=GRID).order_by("household__number")
    )


def batch_post(client, scheme, subjects, form_key="k1", item="CLEAN"):
    data = {"form_key": form_key, "occurred_on": "2026-03-05"}
    for subject in subjects:
        data[f"item_{subject.pk}"] = item
    return client.post(reverse("ledger:grid_record", args=[GRID, scheme.code]), data)


def test_grid_member_records_the_whole_grid_once(county, client_for, hh):
    client = client_for(county, "dave")
    subjects = grid_subjects()
    assert client.get(reverse("ledger:grid_record", args=[GRID, hh.code])).status_code == 200
    assert batch_post(client, hh, subjects).status_code == 302
    assert batch_post(client, hh, subjects).status_code == 302  # the same form again
    entries = Entry.objects.filter(scheme=hh)
    assert entries.count() == len(subjects) == 6
    assert set(entries.values_list("status", "source").distinct()) == {("submitted", "collected")}


def test_batch_with_a_bad_row_writes_nothing_and_points_at_the_row(county, client_for, hh):
    client = client_for(county, "dave")
    subjects = grid_subjects()
    response = batch_post(client, hh, subjects, item="NOPE")
    assert response.status_code == 200
    flagged = [s for s in response.context["subjects"] if s.row_errors]
    assert len(flagged) == len(subjects)
    assert not Entry.objects.exists()


@pytest.mark.parametrize(("username", "status"), [("oscar", 404), ("erin", 403), ("grace", 404)])
def test_others_cannot_record_for_the_grid(county, client_for, hh, username, status):
    response = batch_post(client_for(county, username), hh, grid_subjects())
    assert response.status_code == status
    assert not Entry.objects.exists()


def recorded(county, scheme, n=3):
    out = []
    for subject in grid_subjects()[:n]:
        entry, _ = entry_record(
            scheme=scheme,
            subject=subject,
            item_code="CLEAN",
            occurred_on=date(2026, 3, 5),
            acting_user=county.users["dave"],
            source="collected",
        )
        out.append(entry)
    return out


def test_review_queue_approves_and_rejects_with_outcomes(county, client_for, hh):
    entries = recorded(county, hh)
    client = client_for(county, "rita")
    page = client.get(reverse("ledger:review"))
    assert {e.pk for e in page.context["page"]} == {e.pk for e in entries}
    response = client.post(
        reverse("ledger:review"), {"entry": [entries[0].pk, entries[1].pk], "decision": "approve"}
    )
    assert [ok for _id, ok, _text, _what in response.context["outcomes"]] == [True, True]
    response = client.post(
        reverse("ledger:review"), {"entry": [entries[2].pk], "decision": "reject", "reason": ""}
    )
    assert Entry.objects.get(pk=entries[2].pk).status == "submitted"  # a rejection needs a reason
    client.post(
        reverse("ledger:review"),
        {"entry": [entries[2].pk], "decision": "reject", "reason": "不属实"},
    )
    assert list(Entry.objects.order_by("id").values_list("status", flat=True)) == [
        "approved",
        "approved",
        "rejected",
    ]


def test_a_decision_names_the_household_and_the_item_not_the_entry_number(county, client_for, hh):
    entries = recorded(county, hh, 2)
    name = entries[0].subject.name
    client = client_for(county, "rita")
    response = client.post(
        reverse("ledger:review"), {"entry": [entries[0].pk], "decision": "approve"}, follow=True
    )
    html = response.content.decode()
    assert f"{name} · 庭院整洁：已通过。" in html  # the message
    assert f"<li>{name} · 庭院整洁：<span" in html  # the outcome per entry
    assert f"#{entries[0].pk}" not in html
    response = client.post(
        reverse("ledger:review"),
        {"entry": [entries[1].pk, entries[0].pk], "decision": "approve"},
    )
    html = response.content.decode()
    assert "已处理 1 / 2 条。" in html  # more than one: counted, each named below
    assert f"{entries[1].subject.name} · 庭院整洁：" in html and f"{name} · 庭院整洁：" in html


def test_the_queue_keeps_each_date_on_one_line(county, client_for, hh):
    """A phone's narrow table may break a cell anywhere (overflow-wrap: anywhere), but a date
    (03-05) would then read as two lines: its cell does not wrap."""
    recorded(county, hh, 1)
    html = client_for(county, "rita").get(reverse("ledger:review")).content.decode()
    assert '<td class="date">03-05</td>' in html
    assert "#review-form td.date { white-space:nowrap;" in html


def test_township_staff_sees_the_queue_but_is_not_a_reviewer_of_household_points(
    county, client_for, hh
):
    entries = recorded(county, hh, 1)
    assert not client_for(county, "bob").get(reverse("ledger:review")).context["page"]
    response = client_for(county, "bob").post(
        reverse("ledger:review"), {"entry": [entries[0].pk], "decision": "approve"}
    )
    assert response.context["outcomes"][0][1] is False
    assert Entry.objects.get(pk=entries[0].pk).status == "submitted"


def test_a_reviewer_of_another_village_is_refused_403_and_nothing_is_decided(
    county, client_for, hh
):
    entries = recorded(county, hh, 1)
    other = add_reviewer(county, "rex")
    other.role_assignments.update(region=county.region("330304002001"))  # 西溪村
    response = client_for(county, "rex").post(
        reverse("ledger:review"), {"entry": [entries[0].pk], "decision": "approve"}
    )
    assert response.status_code == 403
    assert Entry.objects.get(pk=entries[0].pk).status == "submitted"


@pytest.mark.parametrize("username", ["oscar", "erin", "dave"])
def test_roles_without_review_get_403_and_change_nothing(county, client_for, hh, username):
    entries = recorded(county, hh, 1)
    response = client_for(county, username).post(
        reverse("ledger:review"), {"entry": [entries[0].pk], "decision": "approve"}
    )
    assert response.status_code == 403
    assert Entry.objects.get(pk=entries[0].pk).status == "submitted"


def test_review_queue_filters_and_query_count(
    county, client_for, hh, django_assert_max_num_queries
):
    recorded(county, hh, 6)
    client = client_for(county, "rita")
    assert (
        len(client.get(reverse("ledger:review"), {"region": "330304002001"}).context["page"]) == 0
    )
    with django_assert_max_num_queries(16):
        client.get(reverse("ledger:review"))


def test_my_entries_and_reversal_on_the_subject_page(county, client_for, hh):
    entries = recorded(county, hh, 1)
    assert [
        e.pk for e in client_for(county, "dave").get(reverse("ledger:my_entries")).context["page"]
    ] == [entries[0].pk]
    client_for(county, "rita").post(
        reverse("ledger:review"), {"entry": [entries[0].pk], "decision": "approve"}
    )
    subject_url = reverse("periods:subject", args=[entries[0].subject_id])
    page = client_for(county, "rita").get(subject_url)
    assert page.context["can_reverse"]
    assert [e.running_total for e in page.context["page"]] == [1]
    response = client_for(county, "rita").post(
        reverse("ledger:entry_reverse", args=[entries[0].pk]), {"reason": "错录"}
    )
    assert response.status_code == 302
    totals = [e.running_total for e in client_for(county, "rita").get(subject_url).context["page"]]
    assert totals == [0, 1]  # newest first: the reversal brings the running total back to 0
    assert (
        client_for(county, "dave")
        .post(reverse("ledger:entry_reverse", args=[entries[0].pk]), {"reason": "x"})
        .status_code
        == 403
    )


def queries_for(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize(
    ("username", "url"), [("rita", "ledger:review"), ("dave", "ledger:my_entries")]
)
def test_entry_lists_query_count_does_not_grow_with_entries(county, client_for, hh, username, url):
    fill_grid(county, 9)
    subjects_sync(kind="household")
    client = client_for(county, username)
    counts = []
    for n in (3, 9):
        for subject in grid_subjects()[len(counts) and 3 : n]:
            entry_record(
                scheme=hh,
                subject=subject,
                item_code="CLEAN",
                occurred_on=date(2026, 3, 5),
                acting_user=county.users["dave"],
                source="collected",
            )
        count, response = queries_for(client, reverse(url))
        assert len(response.context["page"]) == n
        counts.append(count)
    assert counts[0] == counts[1]
