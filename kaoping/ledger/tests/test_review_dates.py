"""The review queue's date filters: a date that does not exist is ignored with a message in
Chinese, never a 500 (issue 19, item 10)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from .ledger_fixture import add_reviewer, load_household_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(county):
    load_household_scheme(county)
    add_reviewer(county)
    return "rita"


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ({"start": "2026-02-30"}, "从", "2026-02-30"),
        ({"end": "2026-13-01"}, "至", "2026-13-01"),
        ({"start": "yesterday"}, "从", "yesterday"),
        ({"end": "99999-01-01"}, "至", "99999-01-01"),
    ],
)
def test_a_date_that_does_not_exist_is_ignored_with_a_message(
    county, client_for, rita, query, field, value
):
    client = client_for(county, rita)
    client.raise_request_exception = False
    response = client.get(reverse("ledger:review"), query)
    assert response.status_code == 200
    key = next(iter(query))
    assert response.context["filters"][key] == ""
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == [f"“{field}”中的“{value}”不是有效日期（应如 2026-03-05），已忽略此筛选条件。"]
    assert "不是有效日期" in response.content.decode()


def test_good_dates_filter_without_a_message(county, client_for, rita):
    response = client_for(county, rita).get(
        reverse("ledger:review"), {"start": "2026-03-01", "end": "2026-3-31"}
    )
    assert response.status_code == 200
    assert response.context["filters"]["start"] == "2026-03-01"
    assert response.context["filters"]["end"] == "2026-3-31"
    assert list(get_messages(response.wsgi_request)) == []
