"""Scheme, period, explain, subject and entry pages, by persona."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaoping.core.models import AuditLog
from kaoping.ledger.models import Entry
from kaoping.periods.models import Period, Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import (
    TEST_SCHEME,
    load_test_scheme,
    record,
    village_subjects,
)
from kaoping.schemes.models import Scheme

pytestmark = pytest.mark.django_db

DONGLING, XIXI = "330304001001", "330304002001"


@pytest.fixture
def scored(county):
    version = load_test_scheme(county)
    subjects = village_subjects(county)
    scheme = version.scheme
    for _ in range(4):
        record(scheme, subjects[DONGLING], "A1", note="村民大会")
    record(scheme, subjects[XIXI], "V0")
    period = period_open(scheme=scheme, label="2026-03")
    period_close(period=period, acting_user=None)
    return scheme, subjects, period


@pytest.mark.parametrize(
    ("username", "status"),
    [("alice", 200), ("bob", 200), ("carol", 200), ("erin", 200), ("grace", 200)],
)
def test_scheme_list_by_persona(scored, client_for, county, username, status):
    assert client_for(county, username).get(reverse("console:schemes")).status_code == status


def test_scheme_page_shows_the_rules_and_periods(scored, client_for, county):
    html = (
        client_for(county, "carol")
        .get(reverse("console:scheme", args=["test-village"]))
        .content.decode()
    )
    assert "开会" in html and "+5/" in html and "2026-03" in html


def test_upload_loads_a_new_version_and_reports_errors_with_lines(scored, client_for, county):
    client = client_for(county, "alice")
    v2 = TEST_SCHEME.replace("version: 1", "version: 2")
    response = client.post(
        reverse("console:schemes"), {"file": SimpleUploadedFile("t.yaml", v2.encode())}
    )
    assert response.status_code == 302
    assert Scheme.objects.get(code="test-village").versions.count() == 2
    broken = TEST_SCHEME.replace("version: 1", "version: 3").replace("cap: 15", "cpa: 15")
    response = client.post(
        reverse("console:schemes"), {"file": SimpleUploadedFile("t.yaml", broken.encode())}
    )
    assert any("t.yaml:" in p and "cpa" in p for p in response.context["problems"])
    assert Scheme.objects.get(code="test-village").versions.count() == 2


def test_only_admins_upload(scored, client_for, county):
    response = client_for(county, "carol").post(
        reverse("console:schemes"),
        {
            "file": SimpleUploadedFile(
                "t.yaml", TEST_SCHEME.replace("version: 1", "version: 2").encode()
            )
        },
    )
    assert response.status_code == 403
    assert Scheme.objects.get(code="test-village").versions.count() == 1


def test_period_results_are_scoped(scored, client_for, county):
    _scheme, subjects, period = scored
    url = reverse("console:period", args=[period.pk])
    assert {r.subject_id for r in client_for(county, "alice").get(url).context["page"]} == {
        s.pk for s in subjects.values()
    }
    assert {r.subject_id for r in client_for(county, "carol").get(url).context["page"]} == {
        subjects[DONGLING].pk
    }


def test_explain_shows_the_cap_and_the_entries(scored, client_for, county):
    _scheme, subjects, period = scored
    response = client_for(county, "carol").get(
        reverse("console:explain", args=[period.pk, subjects[DONGLING].pk])
    )
    html = response.content.decode()
    assert "20→15" in html  # 4 × 5 capped at 15
    assert html.count("村民大会") == 4
    assert response.context["total"] == 45  # 15 + B's base 30


def test_explain_of_another_village_is_404(scored, client_for, county):
    _scheme, subjects, period = scored
    assert (
        client_for(county, "carol")
        .get(reverse("console:explain", args=[period.pk, subjects[XIXI].pk]))
        .status_code
        == 404
    )


def test_explain_names_the_veto(scored, client_for, county):
    _scheme, subjects, period = scored
    html = (
        client_for(county, "oscar")
        .get(reverse("console:explain", args=[period.pk, subjects[XIXI].pk]))
        .content.decode()
    )
    assert "重大事故" in html and "30" in html


def test_close_button_for_admin_only_and_audited(scored, client_for, county):
    _scheme, subjects, period = scored
    url = reverse("console:period_close", args=[period.pk])
    assert client_for(county, "bob").post(url).status_code == 403
    assert AuditLog.objects.filter(action="periods.period.closed").count() == 1
    record(period.scheme, subjects[DONGLING], "C1")
    assert client_for(county, "alice").post(url).status_code == 302
    assert Result.objects.get(period=period, subject=subjects[DONGLING]).total == 5100
    assert AuditLog.objects.filter(
        action="periods.period.closed", actor=county.users["alice"]
    ).exists()


def test_rebind_to_a_new_version_is_asked_for_and_audited(scored, client_for, county):
    scheme, _subjects, period = scored
    from kaoping.schemes.services import scheme_load

    v2, _ = scheme_load(
        text=TEST_SCHEME.replace("version: 1", "version: 2").replace(
            "points: 5, cap: 15", "points: 2, cap: 15"
        ),
        filename="t.yaml",
        region=county.region("330304"),
        acting_user=None,
    )
    period.refresh_from_db()
    assert period.version.number == 1  # a new version does not touch the period by itself
    response = client_for(county, "alice").post(
        reverse("console:period_rebind", args=[period.pk]), {"version": v2.pk}
    )
    assert response.status_code == 302
    period.refresh_from_db()
    assert (period.version_id, period.status) == (v2.pk, "open")
    assert AuditLog.objects.filter(action="periods.period.rebound").exists()


def test_record_an_entry_from_the_subject_page(scored, client_for, county):
    scheme, subjects, _period = scored
    client = client_for(county, "carol")
    url = reverse("console:entry_new", args=[subjects[DONGLING].pk, scheme.code])
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


def test_record_for_out_of_scope_subject_is_404_and_writes_nothing(scored, client_for, county):
    scheme, subjects, _period = scored
    before = Entry.objects.count()
    url = reverse("console:entry_new", args=[subjects[XIXI].pk, scheme.code])
    response = client_for(county, "carol").post(
        url, {"item_code": "A1", "quantity": "1", "occurred_on": "2026-03-12"}
    )
    assert response.status_code == 404
    assert Entry.objects.count() == before


def test_reviewer_cannot_record(scored, client_for, county):
    scheme, subjects, _period = scored
    url = reverse("console:entry_new", args=[subjects[DONGLING].pk, scheme.code])
    assert (
        client_for(county, "erin").get(url).status_code == 404
    )  # the villager's scope is her household


def test_open_period_form(scored, client_for, county):
    client = client_for(county, "alice")
    response = client.post(reverse("console:scheme", args=["test-village"]), {"label": "2026-13"})
    assert "2026-03" in response.context["form"].errors["label"][0]
    response = client.post(reverse("console:scheme", args=["test-village"]), {"label": "2026-Q2"})
    assert response.status_code == 302
    assert Period.objects.filter(label="2026-Q2", cadence="quarter").exists()
    assert date(2026, 4, 1) == Period.objects.get(label="2026-Q2").start
