"""The close asks first: a preview of what is missing, then a confirmed close (issue 16)."""

from datetime import date

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.periods.models import Period, Result
from kaoping.periods.selectors import period_close_preview
from kaoping.periods.services import period_close, period_open

from .scheme_fixture import load_test_scheme, record, report_metric, village_subjects

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"


@pytest.fixture
def march(county):
    version = load_test_scheme(county)
    subjects = village_subjects(county)
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    record(version.scheme, subjects[DONGLING], "A1", on=date(2026, 3, 2))
    record(version.scheme, subjects[NANSHAN], "A1", on=date(2026, 3, 2), status="submitted")
    report_metric(period, subjects[DONGLING], "reported_rate", "0.95")
    return period, subjects


def test_the_preview_names_what_is_missing(march):
    period, subjects = march
    preview = period_close_preview(period=period)
    # 南山 has only an entry under review, 西溪 nothing at all.
    assert preview.without_data == [subjects[NANSHAN].name, subjects[XIXI].name]
    assert preview.subject_count == 3 and preview.policy == "zero"
    [metric] = preview.missing_metrics
    assert (metric.metric, metric.count) == ("reported_rate", 2)
    assert metric.label == "走访率"  # the item's name: the file gives the metric no label
    assert preview.pending_total == 1
    assert not preview.blocked and preview.scored_count == 3


def test_the_page_asks_and_nothing_is_written_before_confirming(march, client_for, county):
    period, subjects = march
    client = client_for(county, "alice")
    url = reverse("periods:close", args=[period.pk])
    html = client.get(url).content.decode()
    assert subjects[XIXI].name in html and "走访率" in html
    assert 'name="confirm"' in html
    assert client.post(url).status_code == 302  # no confirmation: back to the preview
    assert Period.objects.get(pk=period.pk).status == "open"
    assert not Result.objects.filter(period=period).exists()
    assert not AuditLog.objects.filter(action="periods.period.closed").exists()
    response = client.post(url, {"confirm": "yes"})
    # The close runs as a task (in the request with the immediate backend) and the page that
    # follows it shows it done, with the way to the period's results.
    assert response.status_code == 302 and "/progress/" in response["Location"]
    assert Result.objects.filter(period=period).count() == 3
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page and f"/periods/{period.pk}/" in page
    # Other personas see neither the preview nor a way to close.
    for username in ("bob", "carol", "oscar"):
        assert client_for(county, username).get(url).status_code in (403, 404)


def test_a_blocked_scheme_shows_no_confirm_button_and_the_close_refuses(county, client_for):
    from kaoping.periods.tests.scheme_fixture import TEST_SCHEME

    version = load_test_scheme(
        county, TEST_SCHEME.replace("cadence: month\n", "cadence: month\nno_data: block\n", 1)
    )
    subjects = village_subjects(county)
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    record(version.scheme, subjects[DONGLING], "A1", on=date(2026, 3, 2))
    client = client_for(county, "alice")
    url = reverse("periods:close", args=[period.pk])
    html = client.get(url).content.decode()
    assert 'name="confirm"' not in html
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert subjects[XIXI].name in response.content.decode()
    assert Period.objects.get(pk=period.pk).status == "open"


def test_a_roll_up_whose_months_are_open_says_so(march, client_for, county):
    period, _subjects = march
    quarter = period_open(scheme=period.scheme, label="2026-Q1", acting_user=system_actor())
    preview = period_close_preview(period=quarter)
    assert preview.blocked and "2026-01" in preview.problem
    period_close(period=period, acting_user=system_actor())
    html = client_for(county, "alice").get(reverse("periods:close", args=[quarter.pk]))
    assert html.status_code == 200


def test_many_subjects_without_data_are_counted_and_the_first_ten_named(county):
    from kaoping.outcomes.tests.fixtures import build_villages
    from kaoping.periods.tests.scheme_fixture import TEST_SCHEME

    build_villages(county, extra=10)  # 13 villages, none with data
    version = load_test_scheme(
        county, TEST_SCHEME.replace("cadence: month\n", "cadence: month\nno_data: block\n", 1)
    )
    period = period_open(scheme=version.scheme, label="2026-03", acting_user=system_actor())
    preview = period_close_preview(period=period)
    assert (preview.without_data_count, len(preview.without_data)) == (13, 10)
    assert preview.without_data_more == 3 and preview.blocked
    with pytest.raises(KaopingError) as refused:
        period_close(period=period, acting_user=system_actor())
    assert "13" in str(refused.value) and "3" in str(refused.value)
