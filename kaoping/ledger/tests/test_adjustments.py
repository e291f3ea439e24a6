"""± adjustments of a roll-up period (`adjust: true`) recorded by users through the Recorder —
the console, the JSON API and the Excel import — refused on the field that is wrong, stored
with their sign, reversible, and added by the close as docs/schemes.md §9 states (issue 17,
item 4)."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.api.models import ApiToken
from kaoping.core.errors import KaopingError
from kaoping.ledger.adjustments import ADJUST_CODE
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.imports import import_commit, import_upload
from kaoping.ledger.models import Entry, EntrySource, EntryStatus
from kaoping.ledger.services import (
    entries_review,
    entry_record,
    entry_reverse,
    ledger_seal,
)
from kaoping.ledger.template import import_template
from kaoping.ledger.testing import import_workbook
from kaoping.periods.models import Result
from kaoping.periods.selectors import explain
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import docs_example, village_subjects
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"
# docs/schemes.md §9: 日常工作 2 points each; the year sums the months and takes adjustments.
ADJUST = docs_example("adjust-example")
YEAR_END = docs_example("year-end-example")  # a composite year without `adjust: true`


def load(county, text=ADJUST):
    version, _created = scheme_load(
        text=text, filename="a.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


@pytest.fixture
def scheme(county):
    return load(county)


@pytest.fixture
def villages(county, scheme):
    return village_subjects(county)


def adjust(county, scheme, subject, points, reason, *, by="bob", on=date(2026, 9, 1), **more):
    """One adjustment through the service every page calls (`entry_record`)."""
    entry, _created = entry_record(
        scheme=scheme,
        subject=subject,
        item_code=ADJUST_CODE,
        occurred_on=on,
        quantity=points,
        note=reason,
        cadence=more.pop("cadence", "year"),
        acting_user=county.users[by],
        **more,
    )
    return entry


def refusal(county, scheme, subject, points="2", reason="获市级表彰", **more) -> dict:
    with pytest.raises(KaopingError) as refused:
        adjust(county, scheme, subject, points, reason, **more)
    return refused.value.message_dict


def close_year(scheme, year=2026):
    for month in range(1, 13):
        period = period_open(scheme=scheme, label=f"{year}-{month:02d}", acting_user=system_actor())
        period_close(period=period, acting_user=system_actor())
    period = period_open(scheme=scheme, label=str(year), acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def test_the_worked_example_closes_to_its_stated_numbers(county, scheme, villages):
    bob, alice = county.users["bob"], county.users["alice"]
    dongling, nanshan, xixi = villages[DONGLING], villages[NANSHAN], villages[XIXI]
    for day, times in ((date(2026, 3, 10), "10"), (date(2026, 6, 10), "5")):
        entry_record(
            scheme=scheme,
            subject=dongling,
            item_code="A1",
            occurred_on=day,
            quantity=times,
            acting_user=bob,
        )
    plus = adjust(county, scheme, dongling, "2", "获市级表彰")
    minus = adjust(county, scheme, dongling, "-3", "发生安全事故")
    wrong = adjust(county, scheme, dongling, "-1.5", "误录")
    west = adjust(county, scheme, xixi, "-2", "环境整治不力", by="alice")
    pending = adjust(county, scheme, nanshan, "5", "获县级表彰")
    # A negative adjustment is stored as a quantity with sign −1 and no `reverses`.
    assert (minus.sign, minus.quantity_scaled, minus.reverses_id) == (-1, 3000, None)
    assert (minus.points, minus.quantity, minus.status) == (Decimal(-3), Decimal(-3), "submitted")
    ids = [e.pk for e in Entry.objects.exclude(pk__in=[west.pk, pending.pk])]
    assert all(o.ok for o in entries_review(entry_ids=ids, decision="approve", acting_user=alice))
    entries_review(entry_ids=[west.pk], decision="approve", acting_user=system_actor())
    # Reversing the negative one writes +1.5, marked by `reverses`, and cannot itself be reversed.
    wrong.refresh_from_db()
    reversal = entry_reverse(entry=wrong, reason="录错对象", acting_user=alice)
    assert (reversal.sign, reversal.points, reversal.reverses_id) == (1, Decimal("1.5"), wrong.pk)
    with pytest.raises(KaopingError):
        entry_reverse(entry=reversal, reason="再冲", acting_user=alice)

    year = close_year(scheme)
    totals = {
        r.subject_id: year.version.to_points(r.total) for r in Result.objects.filter(period=year)
    }
    assert totals[dongling.pk] == Decimal(29)  # 20 + 10 + 2 − 3, the reversed −1.5 cancelled
    assert totals[xixi.pk] == Decimal(-2)  # no floor
    assert totals[nanshan.pk] == Decimal(0)  # the +5 is still under review
    # The explanation lists each adjustment of the year with its reason.
    (part,) = explain(year, Result.objects.get(period=year, subject=dongling))["parts"]
    assert part.source == "adjust" and part.value == Decimal(-1)
    assert [(e.points, e.note) for e in part.entries] == [
        (Decimal(2), "获市级表彰"),
        (Decimal(-3), "发生安全事故"),
        (Decimal("-1.5"), "误录"),
        (Decimal("1.5"), "录错对象"),
    ]
    assert plus.is_adjustment and not Entry(item_code="A1").is_adjustment


@pytest.mark.parametrize(
    ("points", "more", "field"),
    [
        ("0", {}, "quantity"),
        ("0.0001", {}, "quantity"),
        ("1000000.001", {}, "quantity"),
        ("abc", {}, "quantity"),
        ("2", {"cadence": ""}, "cadence"),  # the scheme's own period
        ("2", {"cadence": "month"}, "cadence"),
        ("2", {"cadence": "quarter"}, "cadence"),  # no roll-up there
        ("2", {"label": "好"}, "label"),
        ("2", {"on": date(2099, 1, 1)}, "occurred_on"),
    ],
)
def test_a_bad_adjustment_is_refused_on_its_field(county, scheme, villages, points, more, field):
    problems = refusal(county, scheme, villages[DONGLING], points, **more)
    assert list(problems) == [field]
    assert not Entry.objects.exists()


def test_the_reason_is_required(county, scheme, villages):
    assert list(refusal(county, scheme, villages[DONGLING], reason="  ")) == ["note"]
    assert list(refusal(county, scheme, villages[DONGLING], reason="x" * 501)) == ["note"]


def test_a_scheme_without_adjust_true_takes_no_adjustment(county, villages):
    year_end = load(county, YEAR_END)
    problems = refusal(county, year_end, villages[DONGLING])
    assert list(problems) == ["cadence"] and "adjust" in problems["cadence"][0]


def test_only_the_roll_up_period_s_own_seal_refuses(county, scheme, villages):
    dongling = villages[DONGLING]
    ledger_seal(
        scheme=scheme, start=date(2026, 9, 1), end=date(2026, 9, 30), reason="period:2026-09"
    )
    # A finalised month inside an open year takes its year's adjustments still…
    assert adjust(county, scheme, dongling, "1", "表彰").sign == 1
    ledger_seal(scheme=scheme, start=date(2026, 1, 1), end=date(2026, 12, 31), reason="period:2026")
    # …a finalised year does not.
    assert list(refusal(county, scheme, dongling)) == ["occurred_on"]
    assert Entry.objects.count() == 1


def test_out_of_scope_and_households_are_refused(county, scheme, villages):
    with pytest.raises(Refused):
        adjust(county, scheme, villages[DONGLING], "2", "表彰", by="oscar")
    with pytest.raises(KaopingError) as refused:
        adjust(county, scheme, villages[DONGLING], "2", "表彰", by="erin", declared=True)
    assert not Entry.objects.exists(), refused.value


def test_the_console_offers_the_adjustment_and_records_negative_points(
    client_for, county, scheme, villages
):
    dongling = villages[DONGLING]
    client = client_for(county, "bob")
    url = reverse("ledger:entry_new", args=[dongling.pk, scheme.code])
    form = client.get(url).context["form"]
    assert ADJUST_CODE in dict(form.fields["item_code"].choices)
    assert [c for c, _label in form.fields["cadence"].choices] == ["", "year"]
    data = {
        "item_code": ADJUST_CODE,
        "quantity": "-2",
        "occurred_on": "2026-09-01",
        "cadence": "year",
        "note": "",
        "idempotency_key": form.initial["idempotency_key"],
    }
    refused = client.post(url, data)
    assert "note" in refused.context["form"].errors
    zero = client.post(url, {**data, "quantity": "0", "note": "表彰"})
    assert "quantity" in zero.context["form"].errors
    assert not Entry.objects.exists()
    assert client.post(url, {**data, "note": "发生安全事故"}).status_code == 302
    entry = Entry.objects.get()
    assert (entry.item_code, entry.cadence, entry.points, entry.note) == (
        ADJUST_CODE,
        "year",
        Decimal(-2),
        "发生安全事故",
    )
    page = client.get(reverse("periods:subject", args=[dongling.pk]))
    assert b'data-points="-2"' in page.content and "发生安全事故" in page.content.decode()
    mine = client.get(reverse("ledger:my_entries")).content.decode()
    assert 'data-points="-2"' in mine and "发生安全事故" in mine
    # A plain item still takes positive quantities only, refused on the field.
    plain = client.post(url, {**data, "item_code": "A1", "cadence": "", "idempotency_key": "k2"})
    assert "quantity" in plain.context["form"].errors


def test_the_api_records_an_adjustment_and_names_the_field_it_refuses(
    client, county, scheme, villages
):
    _token, key = ApiToken.issue(user=county.users["bob"], name="test")

    def post(body, idempotency):
        return client.post(
            "/api/entries",
            {
                "scheme": scheme.code,
                "subject_id": villages[DONGLING].pk,
                "item_code": ADJUST_CODE,
                "occurred_on": "2026-09-01",
                "cadence": "year",
                **body,
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency},
        )

    made = post({"quantity": "-3", "note": "发生安全事故"}, "adjust-0001")
    assert made.status_code == 201, made.content
    assert (made.json()["quantity"], made.json()["points"]) == ("-3", "-3")
    assert made.json()["source"] == EntrySource.DEPARTMENT
    no_reason = post({"quantity": "-3"}, "adjust-0002")
    assert no_reason.status_code == 422 and "note" in no_reason.json()["errors"]
    own = post({"quantity": "2", "note": "表彰", "cadence": ""}, "adjust-0003")
    assert own.status_code == 422 and "cadence" in own.json()["errors"]
    negative_item = post({"item_code": "A1", "quantity": "-1", "cadence": ""}, "adjust-0004")
    assert negative_item.status_code == 422 and "quantity" in negative_item.json()["errors"]
    assert Entry.objects.count() == 1


HEADERS = ("对象", "评分项", "数量", "评议等次", "日期", "考核层级", "备注")


def upload(county, scheme, rows, by="bob"):
    return import_upload(
        scheme=scheme,
        data=import_workbook(rows, headers=HEADERS),
        filename="adjust.xlsx",
        acting_user=county.users[by],
    )


def test_the_import_takes_adjustment_rows(county, scheme, villages):
    day = date(2026, 9, 1)
    job = upload(
        county,
        scheme,
        [
            (DONGLING, "加减分", "-3", None, day, "年度", "发生安全事故"),
            (DONGLING, "加减分", "2", None, day, "year", "获市级表彰"),
            (DONGLING, "日常工作", 1, None, day, None, ""),
        ],
    )
    assert job.errors == []
    import_commit(job, acting_user=county.users["bob"])
    rows = Entry.objects.order_by("id").values_list("item_code", "cadence", "sign", "points")
    assert list(rows) == [
        (ADJUST_CODE, "year", -1, Decimal(-3)),
        (ADJUST_CODE, "year", 1, Decimal(2)),
        ("A1", "", 1, Decimal(2)),
    ]
    assert set(Entry.objects.values_list("status", flat=True)) == {EntryStatus.SUBMITTED}


def test_bad_adjustment_rows_are_named_by_row_and_column(county, scheme, villages):
    day = date(2026, 9, 1)
    job = upload(
        county,
        scheme,
        [
            (DONGLING, "加减分", "-3", None, day, "年度", ""),  # no reason
            (DONGLING, "加减分", None, None, day, "年度", "表彰"),  # no points
            (DONGLING, "加减分", "0", None, day, "年度", "表彰"),
            (DONGLING, "加减分", "2", None, day, None, "表彰"),  # the month
        ],
    )
    found = sorted((e["row"], e["column"]) for e in job.errors)
    assert found == [(2, "备注"), (3, "数量"), (4, "数量"), (5, "考核层级")]
    with pytest.raises(KaopingError):
        import_commit(job, acting_user=county.users["bob"])
    assert not Entry.objects.exists()


def test_the_hash_chain_covers_the_sign_of_an_adjustment(county, scheme, villages):
    minus = adjust(county, scheme, villages[DONGLING], "-3", "发生安全事故")
    assert list(chain_verify()) == []
    Entry.objects.filter(pk=minus.pk).update(sign=1)  # −3 turned into +3 by hand
    assert [p.entry_id for p in chain_verify()] == [minus.pk]


def test_the_template_offers_adjustment_rows(county, scheme):
    book = load_workbook(io.BytesIO(import_template(scheme, county.users["bob"])))
    headers = [c.value for c in book["记分导入"][1]]
    assert headers[headers.index("日期") + 1] == "考核层级"
    assert "加减分" in [row[0].value for row in book["选项"].iter_rows()]
    assert "加减分" in [row[0].value for row in book["说明"].iter_rows()]
    # The level's drop-down names the year; the quantity's takes negative points.
    rules = {
        str(v.sqref).split(":")[0][0]: v for v in book["记分导入"].data_validations.dataValidation
    }
    level = get_column_letter(headers.index("考核层级") + 1)
    assert "年度" in rules[level].formula1
    assert get_column_letter(headers.index("数量") + 1) not in rules
