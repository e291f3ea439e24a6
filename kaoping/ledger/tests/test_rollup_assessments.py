"""An assessment held at a roll-up level (the year-end assessment of a monthly scheme, a
composite's `self` part) recorded through the console, the JSON API and the Excel import, each
refusing a level the scheme does not assess at — issue 17, item 4."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.api.models import ApiToken
from kaoping.core.errors import KaopingError
from kaoping.ledger.imports import import_commit, import_upload
from kaoping.ledger.models import Entry
from kaoping.ledger.template import import_template
from kaoping.ledger.testing import import_workbook
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import docs_example, load_test_scheme, village_subjects
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"
DAY = date(2026, 11, 20)

# docs/schemes.md §9: 日常工作 each month; 年终述职评议 at the year-end assessment only, 30 % of
# the year.
YEAR_END = docs_example("year-end-example")


@pytest.fixture
def scheme(county):
    version, _created = scheme_load(
        text=YEAR_END, filename="y.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


@pytest.fixture
def dongling(county, scheme):
    return village_subjects(county)[DONGLING]


def test_the_console_offers_the_year_end_assessment_and_records_into_it(
    client_for, county, scheme, dongling
):
    client = client_for(county, "carol")
    url = reverse("ledger:entry_new", args=[dongling.pk, scheme.code])
    form = client.get(url).context["form"]
    assert [code for code, _label in form.fields["cadence"].choices] == ["", "year"]
    data = {
        "item_code": "Y1",
        "quantity": "86.5",
        "occurred_on": DAY.isoformat(),
        "cadence": "year",
        "idempotency_key": form.initial["idempotency_key"],
    }
    assert client.post(url, data).status_code == 302
    entry = Entry.objects.get(item_code="Y1")
    assert (entry.cadence, entry.quantity) == ("year", 86.5)
    # A level the scheme does not assess at is not a choice, so it is refused on the field.
    bad = client.post(url, {**data, "cadence": "quarter", "idempotency_key": "another"})
    assert "cadence" in bad.context["form"].errors
    assert Entry.objects.count() == 1


def test_a_scheme_without_an_assessment_of_its_own_shows_no_level(client_for, county):
    test_scheme = load_test_scheme(county).scheme  # roll-up by sum only
    subject = village_subjects(county)[DONGLING]
    url = reverse("ledger:entry_new", args=[subject.pk, test_scheme.code])
    assert "cadence" not in client_for(county, "carol").get(url).context["form"].fields


def test_the_api_records_at_the_level_and_names_the_field_it_refuses(
    client, county, scheme, dongling
):
    _token, key = ApiToken.issue(user=county.users["carol"], name="test")
    headers = {"Authorization": f"Bearer {key}"}

    def post(cadence, idempotency):
        return client.post(
            "/api/entries",
            {
                "scheme": scheme.code,
                "subject_id": dongling.pk,
                "item_code": "Y1",
                "quantity": "90",
                "occurred_on": DAY.isoformat(),
                "cadence": cadence,
            },
            content_type="application/json",
            headers={**headers, "Idempotency-Key": idempotency},
        )

    made = post("year", "year-end-0001")
    assert made.status_code == 201 and made.json()["cadence"] == "year"
    refused = post("quarter", "year-end-0002")
    assert refused.status_code == 422 and "cadence" in refused.json()["errors"]
    assert list(Entry.objects.values_list("cadence", flat=True)) == ["year"]


HEADERS = ("对象", "评分项", "数量", "评议等次", "日期", "考核层级", "备注")


def upload(county, scheme, rows):
    return import_upload(
        scheme=scheme,
        data=import_workbook(rows, headers=HEADERS),
        filename="year-end.xlsx",
        acting_user=county.users["carol"],
    )


def test_the_import_takes_a_level_column_by_name(county, scheme, dongling):
    job = upload(
        county,
        scheme,
        [
            (DONGLING, "年终述职评议", 88, None, DAY, "年度", "述职"),
            (DONGLING, "日常工作", 1, None, DAY, "本期", ""),
            (DONGLING, "日常工作", 1, None, DAY, None, ""),
        ],
    )
    assert job.errors == []
    import_commit(job, acting_user=county.users["carol"])
    assert list(Entry.objects.order_by("id").values_list("item_code", "cadence")) == [
        ("Y1", "year"),
        ("A1", ""),
        ("A1", ""),
    ]


def test_a_bad_level_is_named_by_row_and_column_and_nothing_is_written(county, scheme, dongling):
    job = upload(
        county,
        scheme,
        [
            (DONGLING, "年终述职评议", 88, None, DAY, "十年", ""),
            (DONGLING, "年终述职评议", 88, None, DAY, "季度", ""),
        ],
    )
    found = {(e["row"], e["column"], e["cell"]): e["message"] for e in job.errors}
    assert sorted(found) == [(2, "考核层级", "F2"), (3, "考核层级", "F3")]
    assert "十年" in found[(2, "考核层级", "F2")] and "年度" in found[(2, "考核层级", "F2")]
    assert "季度" in found[(3, "考核层级", "F3")]  # a level, but not one this scheme assesses
    with pytest.raises(KaopingError):
        import_commit(job, acting_user=county.users["carol"])
    assert not Entry.objects.exists()


def test_the_template_has_the_level_column_only_where_the_scheme_assesses_a_level(county, scheme):
    book = load_workbook(io.BytesIO(import_template(scheme, county.users["carol"])))
    headers = [c.value for c in book["记分导入"][1]]
    assert headers[headers.index("日期") + 1] == "考核层级"
    guide = [row[0].value for row in book["说明"].iter_rows()]
    assert "考核层级" in guide
    plain = load_test_scheme(county).scheme
    book = load_workbook(io.BytesIO(import_template(plain, county.users["carol"])))
    assert "考核层级" not in [c.value for c in book["记分导入"][1]]


def test_the_year_counts_the_assessment_recorded_at_its_level(county, scheme, dongling):
    Entry.objects.create(
        scheme=scheme,
        subject=dongling,
        item_code="A1",
        quantity_scaled=50_000,  # 50 occurrences × 2 = 100 in November
        occurred_on=DAY,
        status="approved",
    )
    Entry.objects.create(
        scheme=scheme,
        subject=dongling,
        item_code="Y1",
        quantity_scaled=80_000,
        occurred_on=DAY,
        cadence="year",
        status="approved",
    )
    for month in range(1, 13):
        period = period_open(scheme=scheme, label=f"2026-{month:02d}", acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
    year = period_open(scheme=scheme, label="2026", acting_user=system_actor())
    period_close(period=year, acting_user=system_actor())
    # As docs/schemes.md §9 states: the months' mean (100 in one month of 12: 8.33…) × 0.7 + the
    # year's own 80 × 0.3, rounded once to the scheme's two decimals: 5.833… + 24 = 29.83.
    total = Result.objects.get(period=year, subject=dongling).total
    assert year.version.to_points(total) == Decimal("29.83")


def test_an_item_of_the_year_end_assessment_only_is_refused_in_a_month(
    client_for, county, scheme, dongling
):
    client = client_for(county, "carol")
    url = reverse("ledger:entry_new", args=[dongling.pk, scheme.code])
    form = client.get(url).context["form"]
    assert dict(form.fields["item_code"].choices)["Y1"].endswith("（年度考核）")
    month = client.post(
        url,
        {
            "item_code": "Y1",
            "quantity": "80",
            "occurred_on": DAY.isoformat(),
            "cadence": "",
            "idempotency_key": form.initial["idempotency_key"],
        },
    )
    assert "年度" in month.context["form"].errors["cadence"][0]
    job = upload(county, scheme, [(DONGLING, "年终述职评议", 88, None, DAY, "", "")])
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "考核层级")]
    assert not Entry.objects.exists()


def test_an_item_level_the_scheme_does_not_assess_is_refused_at_its_line(county):
    from kaoping.schemes.spec import SchemeError

    text = YEAR_END.replace("cadences: [year]", "cadences: [quarter]")
    with pytest.raises(SchemeError) as refused:
        scheme_load(
            text=text, filename="y.yaml", region=county.region("330304"), acting_user=system_actor()
        )
    (problem,) = [str(p) for p in refused.value.problems if "quarter" in str(p)]
    assert "第 8 行" in problem and "year" in problem
