"""A scheme's page, the period page, explain, close and rebind, by persona."""

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.models import AuditLog
from kaoping.ledger.tests.ledger_fixture import fill_grid, load_household_scheme
from kaoping.people.services import subjects_sync
from kaoping.periods.models import Period, Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import (
    TEST_SCHEME,
    load_test_scheme,
    record,
    village_subjects,
)

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
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return scheme, subjects, period


def test_scheme_page_shows_the_rules_and_periods(scored, client_for, county):
    html = (
        client_for(county, "carol")
        .get(reverse("periods:scheme", args=["test-village"]))
        .content.decode()
    )
    assert "开会" in html and "+5/" in html and "2026-03" in html


def test_period_results_are_scoped(scored, client_for, county):
    _scheme, subjects, period = scored
    url = reverse("periods:detail", args=[period.pk])
    assert {r.subject_id for r in client_for(county, "alice").get(url).context["page"]} == {
        s.pk for s in subjects.values()
    }
    assert {r.subject_id for r in client_for(county, "carol").get(url).context["page"]} == {
        subjects[DONGLING].pk
    }


def test_explain_shows_the_cap_and_the_entries(scored, client_for, county):
    _scheme, subjects, period = scored
    response = client_for(county, "carol").get(
        reverse("periods:explain", args=[period.pk, subjects[DONGLING].pk])
    )
    html = response.content.decode()
    assert "20→15" in html  # 4 × 5 capped at 15
    assert html.count("村民大会") == 4
    assert response.context["total"] == 45  # 15 + B's base 30


def test_explain_of_another_village_is_404(scored, client_for, county):
    _scheme, subjects, period = scored
    assert (
        client_for(county, "carol")
        .get(reverse("periods:explain", args=[period.pk, subjects[XIXI].pk]))
        .status_code
        == 404
    )


def test_explain_names_the_veto(scored, client_for, county):
    _scheme, subjects, period = scored
    html = (
        client_for(county, "oscar")
        .get(reverse("periods:explain", args=[period.pk, subjects[XIXI].pk]))
        .content.decode()
    )
    assert "重大事故" in html and "30" in html


def test_close_button_for_admin_only_and_audited(scored, client_for, county):
    _scheme, subjects, period = scored
    url = reverse("periods:close", args=[period.pk])
    assert client_for(county, "bob").post(url, {"confirm": "yes"}).status_code == 403
    assert client_for(county, "bob").get(url).status_code == 403
    assert AuditLog.objects.filter(action="periods.period.closed").count() == 1
    record(period.scheme, subjects[DONGLING], "C1")
    # Without the confirmation a post only leads back to the preview.
    assert client_for(county, "alice").post(url).status_code == 302
    assert Result.objects.get(period=period, subject=subjects[DONGLING]).total != 5100
    assert client_for(county, "alice").post(url, {"confirm": "yes"}).status_code == 302
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
        acting_user=system_actor(),
    )
    period.refresh_from_db()
    assert period.version.number == 1  # a new version does not touch the period by itself
    response = client_for(county, "alice").post(
        reverse("periods:rebind", args=[period.pk]), {"version": v2.pk}
    )
    assert response.status_code == 302
    period.refresh_from_db()
    assert (period.version_id, period.status) == (v2.pk, "open")
    assert AuditLog.objects.filter(action="periods.period.rebound").exists()


def test_open_period_form(scored, client_for, county):
    client = client_for(county, "alice")
    response = client.post(reverse("periods:scheme", args=["test-village"]), {"label": "2026-13"})
    assert "2026-03" in response.context["form"].errors["label"][0]
    response = client.post(reverse("periods:scheme", args=["test-village"]), {"label": "2026-Q2"})
    assert response.status_code == 302
    assert Period.objects.filter(label="2026-Q2", cadence="quarter").exists()
    assert date(2026, 4, 1) == Period.objects.get(label="2026-Q2").start


def queries_for(client, url: str):
    cache.clear()  # a first visit: what is kept of closed periods (pagecache) would cost less
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_period_page_query_count_does_not_grow_with_results(county, client_for):
    fill_grid(county, 2)
    scheme = load_household_scheme(county)
    client = client_for(county, "alice")
    counts, rows = [], []
    for households, label in ((6, "2026-03"), (18, "2026-04")):
        fill_grid(county, households)
        subjects_sync(kind="household")
        period = period_open(scheme=scheme, label=label, acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
        count, response = queries_for(client, reverse("periods:detail", args=[period.pk]))
        counts.append(count)
        rows.append(len(response.context["page"]))
    assert rows[1] >= 2 * rows[0]
    assert counts[0] == counts[1]


def test_subject_page_query_count_does_not_grow_with_entries(scored, client_for, county):
    scheme, subjects, _period = scored
    client = client_for(county, "carol")
    url = reverse("periods:subject", args=[subjects[DONGLING].pk])
    counts = []
    for more in (5, 10):
        for _ in range(more):
            record(scheme, subjects[DONGLING], "A2", note="种树")
        count, response = queries_for(client, url)
        counts.append(count)
    assert len(response.context["page"]) == 4 + 15
    assert counts[0] == counts[1]


# The same scheme grading only its quarters (as the household scheme grades only its year).
QUARTER_GRADED = TEST_SCHEME.replace(
    "{code: good, name: 优秀,", "{code: good, name: 优秀, cadences: [quarter],"
)
QUARTER_GRADED = QUARTER_GRADED.replace("name: 合格,", "name: 合格, cadences: [quarter],")
QUARTER_GRADED = QUARTER_GRADED.replace("name: 不合格,", "name: 不合格, cadences: [quarter],")


def standing_table(client, period) -> str:
    html = client.get(reverse("periods:detail", args=[period.pk])).content.decode()
    table = html[html.index('id="standing"') :]
    return table[: table.index("</table>")]


def test_the_grade_column_shows_where_the_period_or_its_results_have_grades(
    scored, client_for, county
):
    """A month of a scheme grading every period has the column; a month of one grading only
    quarters has none (the vetoed mark moves beside the name), unless a veto forced a grade."""
    _scheme, _subjects, period = scored
    client = client_for(county, "alice")
    assert "<th>等次</th>" in standing_table(client, period)

    version = load_test_scheme(county, QUARTER_GRADED.replace("version: 1", "version: 2"))
    scheme, subjects = version.scheme, village_subjects(county)
    april = period_open(scheme=scheme, label="2026-04", acting_user=system_actor())
    assert april.version == version
    record(scheme, subjects[XIXI], "V0", on=date(2026, 4, 3))
    period_close(period=april, acting_user=system_actor())
    table = standing_table(client, april)
    assert "<th>等次</th>" not in table and "合格" not in table
    assert table.count("<td") == 4 * Result.objects.filter(period=april).count()
    assert "被否决" in table  # beside the name, as the grade cell is gone

    may = period_open(scheme=scheme, label="2026-05", acting_user=system_actor())
    record(scheme, subjects[DONGLING], "V1", on=date(2026, 5, 3))  # effect: grade → 不合格
    period_close(period=may, acting_user=system_actor())
    table = standing_table(client, may)
    assert "<th>等次</th>" in table and "不合格" in table
