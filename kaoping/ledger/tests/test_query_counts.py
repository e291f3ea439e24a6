"""The review queue costs a fixed number of queries, however many entries wait in it and however
many carry evidence (issue 18)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.ledger.services import entry_record
from kaoping.people.models import Subject

from .declare_fixture import image_bytes
from .ledger_fixture import GRID, add_reviewer, fill_grid, load_household_scheme

pytestmark = pytest.mark.django_db

# Session, user, assignments; the page's count and rows, their evidence, item names; the
# villages and schemes of the filters; the sealed spans the queue leaves out; for an area above
# a village, whether it holds few subjects enough to find their entries one by one
# (ledger.duties._subjects_under).
REVIEW_QUEUE_BUDGET = 12


def queue_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ledger:review"))
    assert response.status_code == 200
    return len(queries), len(response.context["page"])


def record(county, scheme, subject, day: int, *, evidence: bool):
    files = [SimpleUploadedFile("p.png", image_bytes(), "image/png")] if evidence else []
    with transaction.atomic():
        entry_record(
            scheme=scheme,
            subject=subject,
            item_code="CLEAN",
            occurred_on=date(2026, 3, day),
            acting_user=county.users["dave"],
            evidence=files,
        )


@pytest.mark.parametrize("username", ["rita", "alice"])
def test_the_queue_costs_the_same_for_3_or_9_waiting_entries(county, client_for, username):
    fill_grid(county, 9)
    scheme = load_household_scheme(county)
    add_reviewer(county)
    subjects = list(
        Subject.objects.filter(kind="household", region__code=GRID).order_by("household__number")
    )
    client = client_for(county, username)
    counts = []
    for start, end in ((0, 3), (3, 9)):
        for n, subject in enumerate(subjects[start:end], start=start):
            record(county, scheme, subject, 1 + n, evidence=n % 2 == 0)
        counts.append(queue_queries(client))
    assert [rows for _queries, rows in counts] == [3, 9]
    assert counts[0][0] == counts[1][0], counts
    assert counts[1][0] <= REVIEW_QUEUE_BUDGET, counts


def test_an_area_s_entries_are_the_same_found_by_subject_or_by_region(county, monkeypatch):
    """ledger.duties._subjects_under finds the entries of an area above a village subject by
    subject when it holds few subjects, through the subjects' regions when it holds many: the
    queue is the same either way."""
    from kaoping.ledger import duties
    from kaoping.ledger.selectors import entry_review_queue

    fill_grid(county, 6)
    scheme = load_household_scheme(county)
    subjects = Subject.objects.filter(kind="household", region__code=GRID).order_by("pk")
    for n, subject in enumerate(subjects):
        record(county, scheme, subject, 1 + n, evidence=True)
    user = county.users["alice"]  # the county's admin

    def queue(one_by_one: int) -> list[int]:
        monkeypatch.setattr(duties, "SUBJECTS_ONE_BY_ONE", one_by_one)
        return list(entry_review_queue(user=user, filters={}).values_list("pk", flat=True))

    by_subject, by_region = queue(10**9), queue(0)
    assert len(by_subject) == 6
    assert by_subject == by_region
