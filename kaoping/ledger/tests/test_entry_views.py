"""Recording one entry from a subject's page, by persona."""

import pytest
from django.urls import reverse

from kaoping.ledger.models import Entry
from kaoping.periods.tests.scheme_fixture import load_test_scheme, village_subjects

pytestmark = pytest.mark.django_db

DONGLING, XIXI = "330304001001", "330304002001"


@pytest.fixture
def loaded(county):
    version = load_test_scheme(county)
    return version.scheme, village_subjects(county)


def test_record_an_entry_from_the_subject_page(loaded, client_for, county):
    scheme, subjects = loaded
    client = client_for(county, "carol")
    url = reverse("ledger:entry_new", args=[subjects[DONGLING].pk, scheme.code])
    form = client.get(url).context["form"]
    key = form.initial["idempotency_key"]
    data = {
        "item_code": "A3",
        "label": "好",
        "quantity": "1",
        "occurred_on": "2026-03-12",
        "note": "",
        "idempotency_key": key,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a resubmitted form counts once
    assert Entry.objects.filter(item_code="A3", subject=subjects[DONGLING]).count() == 1
    bad = client.post(url, {**data, "label": "", "idempotency_key": "other"})
    assert "label" in bad.context["form"].errors


def test_record_for_out_of_scope_subject_is_404_and_writes_nothing(loaded, client_for, county):
    scheme, subjects = loaded
    before = Entry.objects.count()
    url = reverse("ledger:entry_new", args=[subjects[XIXI].pk, scheme.code])
    response = client_for(county, "carol").post(
        url, {"item_code": "A1", "quantity": "1", "occurred_on": "2026-03-12"}
    )
    assert response.status_code == 404
    assert Entry.objects.count() == before


def test_reviewer_cannot_record(loaded, client_for, county):
    scheme, subjects = loaded
    url = reverse("ledger:entry_new", args=[subjects[DONGLING].pk, scheme.code])
    assert (
        client_for(county, "erin").get(url).status_code == 404
    )  # the villager's scope is her household
