"""Fuzzing the Excel import: workbooks written with openpyxl whose cells are hostile (huge,
NaN and infinite numbers, odd dates, unicode, wrong types, empty cells, unknown subjects and
items). The preview never raises and names a row and column for every problem; a preview with
no problems never fails at commit, and a refused file writes nothing."""

import math
from datetime import date, datetime, time

import pytest
from django.utils import translation
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import IllegalCharacterError

from kaoping.core.errors import KaopingError
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.imports import import_commit, import_upload
from kaoping.ledger.models import Entry, ImportStatus
from kaoping.ledger.testing import import_workbook

from .test_imports import CAROL_1, CAROL_2, OSCAR_1, load, upload

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e20, math.nan, math.inf, 0, 0.5, 2.5, 1, 3]),
    st.sampled_from(["1e308", "1e20", "-1", "2.5", "1,5", "两次", "", " 1 ", "NaN", "Infinity"]),
)
texts = st.one_of(
    st.text(max_size=20).map(lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)),
    st.sampled_from(['=HYPERLINK("x")', "\u202e户", "村" * 600, "\u200b", "行\n二", " "]),
)
dates = st.one_of(
    st.dates(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
    st.sampled_from(["2026-03-05", "2026/3/6", "2026-02-30", "3月5日", "0001-01-01", "", "x"]),
    numbers,
    st.just(time(12, 0)),
)
subjects = st.one_of(st.sampled_from([OSCAR_1, "3303049999999999"]), texts, numbers)
items = st.one_of(st.sampled_from(["GY01", "GY02", "HW01", "PY01", "种树"]), texts, numbers)
ratings = st.one_of(st.sampled_from(["优秀", "良好", "一般", "差"]), texts, numbers)

# A plausible row (a real household, item and date; a quantity that may be huge) ...
good_row = st.tuples(
    st.sampled_from([CAROL_1, CAROL_2]),
    st.sampled_from(["参加志愿服务活动", "为村内公益事业捐款捐物", "乱倒垃圾", "GY02"]),
    st.one_of(
        st.none(),
        st.sampled_from([1, 2, "2.5", 3]),
        st.decimals(min_value="0.001", max_value=10**6, places=3).map(str),
        st.decimals(min_value="0.001", max_value=10**6, places=3).map(float),
        st.sampled_from([1e20, 1e308, 0.0001, 12345678.9, "1e308", 1000000.0005]),
    ),
    st.none(),
    st.dates(min_value=date(2026, 3, 1), max_value=date(2026, 3, 28)),
    st.one_of(st.none(), st.text(st.characters(categories=["L", "N", "Zs"]), max_size=30)),
)
HOSTILE = {0: subjects, 1: items, 2: numbers, 3: ratings, 4: dates, 5: st.one_of(texts, numbers)}


@st.composite
def hostile_row(draw):
    """... with one or two of its cells replaced by hostile values."""
    row = list(draw(good_row))
    for column in draw(st.lists(st.integers(0, 5), min_size=1, max_size=2)):
        row[column] = draw(HOSTILE[column])
    return tuple(row)


rows = st.lists(st.one_of(good_row, hostile_row()), min_size=1, max_size=6)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def workbook(cells) -> bytes:
    try:
        return import_workbook(cells)
    except (IllegalCharacterError, ValueError, TypeError, OverflowError):
        assume(False)  # openpyxl itself cannot write this cell; Excel would not either


@FUZZ
@given(rows)
def test_hostile_rows_preview_with_places_and_a_clean_preview_commits(county, rows):
    scheme = load(county) if not hasattr(county, "_fuzz_scheme") else county._fuzz_scheme
    county._fuzz_scheme = scheme
    data = workbook(rows)
    before = Entry.objects.count()
    job = upload(county, scheme, data)
    assert job.status == ImportStatus.PREVIEWED
    assert Entry.objects.count() == before
    for problem in job.errors:
        assert problem["message"].strip(), problem
        # A row problem names its row and column; a file-level one (row 0) says what is wrong.
        assert problem["row"] >= 0 and (problem["row"] == 0 or problem["column"]), problem
    event("refused in the preview" if job.errors else "clean preview, committed")
    if job.errors:
        with pytest.raises(KaopingError):
            import_commit(job, acting_user=county.users["carol"])
        assert Entry.objects.count() == before
        return
    job = import_commit(job, acting_user=county.users["carol"])
    assert job.status == ImportStatus.COMMITTED, job.errors
    assert Entry.objects.count() == before + job.rows_total
    assert list(chain_verify()) == []


@settings(FUZZ, max_examples=40)
@given(st.binary(max_size=200), st.sampled_from(["entries.xlsx", "entries.csv", "x.xls"]))
def test_files_that_are_not_workbooks_are_refused_in_the_preview(county, data, filename):
    scheme = load(county) if not hasattr(county, "_fuzz_scheme") else county._fuzz_scheme
    county._fuzz_scheme = scheme
    try:
        job = import_upload(
            scheme=scheme, data=data, filename=filename, acting_user=county.users["carol"]
        )
    except KaopingError as error:
        assert " ".join(error.messages).strip()
        return
    assert job.errors or job.rows_total == 0
