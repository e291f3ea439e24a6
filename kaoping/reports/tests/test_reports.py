"""Reports: their numbers are the period page's, the files open and look right, the pages keep
to the reader's area, schedules deliver once."""

import io
import subprocess

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from kaoping.accounts.scoping import system_actor
from kaoping.inbox.models import Message
from kaoping.periods.models import Period, Result
from kaoping.periods.selectors import period_lists, result_list
from kaoping.publishing.tests.fixtures import posted_quarter
from kaoping.reports.models import Report, ReportKind, ReportSchedule, ReportStatus
from kaoping.reports.selectors import bulletin_data, red_black_data, village_annual_data
from kaoping.reports.services import (
    report_build,
    report_create,
    reports_due,
    schedule_deliver,
    schedule_due_period,
    schedule_save,
)
from kaoping.testing import require_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(county):
    return posted_quarter(county)


def _built(county, posted, *, kind=ReportKind.BULLETIN, region="330304", user="alice", **kw):
    alice = county.users[user]
    report = report_create(
        kind=kind,
        scheme=posted.scheme,
        period=None if kind == ReportKind.VILLAGE_ANNUAL else posted.period,
        region=county.region(region),
        acting_user=alice,
        **kw,
    )
    return report_build(report=report, acting_user=alice)


# ── the numbers are the period page's ──


def test_bulletin_ranking_and_lists_equal_the_period_page(county, posted):
    alice = county.users["alice"]
    data = bulletin_data(user=alice, period=posted.period, region=county.region("330304"))
    ranking = data.tables[0]
    expected = [
        (r.rank, r.subject.name, posted.period.version.to_points(r.total))
        for r in result_list(user=alice, period=posted.period)
    ]
    assert ranking.header[0] == "名次"  # one ranking group: no group column
    assert [(row[0], row[1], row[3]) for row in ranking.rows] == [
        (rank, name, f"{points.normalize():f}") for rank, name, points in expected
    ]
    page_lists = {
        listed.code: [m.subject.name for m in listed.members]
        for listed in period_lists(alice, posted.period)
        if listed.kind in ("red", "black", "progress")
    }
    report_lists = {t.kind: [row[1] for row in t.rows] for t in data.tables[1:-1]}
    assert report_lists == {
        "red": page_lists["red"],
        "black": page_lists["black"],
        "progress": page_lists["progress"],
    }
    assert page_lists["black"] == ["西溪村"]
    # Movements against Q2: 溪口村 climbed from 6th to 3rd, 西溪村 fell from 3rd to 6th.
    moves = {row[0]: row[2] for row in data.tables[-1].rows}
    assert moves["溪口村"] == "↑3"
    assert moves["西溪村"] == "↓3"
    facts = dict(data.facts)
    assert facts["黑榜"] == "1"
    assert len(data.charts) == 3


def test_a_township_report_holds_only_its_villages(county, posted):
    bob = county.users["bob"]
    data = bulletin_data(user=bob, period=posted.period, region=county.region("330304001"))
    names = {row[1] for row in data.tables[0].rows}
    assert names == {"东岭村", "南山社区", "北山村", "东湖村"}
    assert names == {r.subject.name for r in result_list(user=bob, period=posted.period)}
    lists = red_black_data(user=bob, period=posted.period, region=county.region("330304001"))
    assert all(row[1] != "西溪村" for table in lists.tables for row in table.rows)


def test_persons_are_masked(county):
    from kaoping.publishing.tests.fixtures import household_posting

    period = household_posting(county)
    data = bulletin_data(user=county.users["alice"], period=period, region=county.region("330304"))
    names = [row[1] for row in data.tables[0].rows]
    assert names and all("*" in name for name in names)
    assert "王建国" not in str(data.tables)


def test_village_annual_report(county, posted):
    data = village_annual_data(
        user=county.users["alice"],
        scheme=posted.scheme,
        year="2026",
        region=county.region("330304001001"),
    )
    rows = data.tables[0].rows
    assert [row[1] for row in rows] == ["28", "30"]  # Q2, Q3 totals of 东岭村
    assert data.charts


# ── the files ──


def test_bulletin_pdf_looks_right(county, posted, tmp_path):
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    pdftotext = require_tool("pdftotext", "poppler-utils")
    report = _built(county, posted)
    assert report.status == ReportStatus.DONE, report.error
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report.pdf.read())
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", pdf, tmp_path / "page"], check=True
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    width, height = page.size
    assert height > width  # A4 upright
    pixels = page.load()
    coloured = dark = 0
    for y in range(height):
        for x in range(width):
            r, g, b = pixels[x, y]
            if max(r, g, b) < 128:
                dark += 1
            if max(r, g, b) - min(r, g, b) > 60:
                coloured += 1
    assert dark > width * height // 200, "the page is blank"
    assert coloured > 200, "no colour: the charts are missing"
    text = subprocess.run(
        [pdftotext, "-layout", pdf, "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "考评通报" in text
    assert "六比六争（测试）" in text
    assert "东岭村" in text and "溪口村" in text


def test_bulletin_word_and_excel_open(county, posted):
    report = _built(county, posted)
    document = Document(io.BytesIO(report.docx.read()))
    texts = [p.text for p in document.paragraphs]
    assert any("考评通报" in t for t in texts)
    assert document.tables
    assert len(document.inline_shapes) == 3  # the charts, as pictures
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert "东岭村" in cells
    workbook = load_workbook(io.BytesIO(report.xlsx.read()))
    assert workbook.sheetnames[0] == "概要"
    ranking = workbook.worksheets[1]
    assert [c.value for c in ranking[2]][1] == "东岭村"


def test_red_black_and_annual_build(county, posted):
    red_black = _built(county, posted, kind=ReportKind.RED_BLACK)
    assert red_black.status == ReportStatus.DONE, red_black.error
    annual = _built(
        county, posted, kind=ReportKind.VILLAGE_ANNUAL, region="330304001001", label="2026"
    )
    assert annual.status == ReportStatus.DONE, annual.error
    assert annual.label == "2026"


def test_a_failure_is_kept_on_the_report(county, posted, monkeypatch):
    from kaoping.reports import services

    def broken(data):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "render_docx", broken)
    report = _built(county, posted)
    assert report.status == ReportStatus.FAILED
    assert "disk full" in report.error
    assert not report.pdf


# ── checks and permissions of the services ──


def test_report_create_checks(county, posted):
    from kaoping.accounts.scoping import Refused
    from kaoping.core.errors import KaopingError

    bob = county.users["bob"]
    with pytest.raises(Refused):  # the county is above his township
        report_create(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            period=posted.period,
            region=county.region("330304"),
            acting_user=bob,
        )
    with pytest.raises(Refused):  # a secretary makes no reports
        report_create(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            period=posted.period,
            region=county.region("330304001001"),
            acting_user=county.users["carol"],
        )
    with pytest.raises(KaopingError):
        report_create(
            kind=ReportKind.VILLAGE_ANNUAL,
            scheme=posted.scheme,
            region=county.region("330304001"),
            label="2026",
            acting_user=bob,
        )
    open_period = Period.objects.create(
        scheme=posted.scheme,
        version=posted.period.version,
        cadence="quarter",
        label="2026-Q4",
        start="2026-10-01",
        end="2026-12-31",
    )
    with pytest.raises(KaopingError):
        report_create(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            period=open_period,
            region=county.region("330304001"),
            acting_user=bob,
        )
    assert not Report.objects.exists()


# ── schedules and the inbox ──


def _schedule(county, posted, **kw):
    return schedule_save(
        kind=kw.get("kind", ReportKind.BULLETIN),
        scheme=posted.scheme,
        region=county.region("330304"),
        recipients=kw.get("recipients", ["county_admin", "township_staff"]),
        when=kw.get("when", "after_close"),
        acting_user=county.users["alice"],
    )


def test_schedule_delivers_each_recipient_their_part_once(county, posted):
    schedule = _schedule(county, posted)
    assert schedule_due_period(schedule) == posted.period
    summary = reports_due(now=None)
    assert "2 report messages delivered" in summary
    alice_message = Message.objects.get(recipient=county.users["alice"])
    bob_message = Message.objects.get(recipient=county.users["bob"])
    alice_report = Report.objects.get(region__code="330304", schedule=schedule)
    bob_report = Report.objects.get(region__code="330304001", schedule=schedule)
    assert alice_message.url == reverse("reports:detail", args=[alice_report.pk])
    assert bob_message.url == reverse("reports:detail", args=[bob_report.pk])
    assert alice_message.dedupe_key == f"report:{schedule.pk}:2026-Q3"
    assert alice_message.attachment_name.endswith(".pdf")
    assert alice_message.attachment.read()[:5] == b"%PDF-"
    assert {Message.objects.count(), Report.objects.count()} == {2}
    # Again: nothing due, nothing new; forced again: the inbox drops the duplicates.
    assert "0 report messages" in reports_due(now=None)
    schedule.refresh_from_db()
    assert schedule.last_label == "2026-Q3"
    assert (
        schedule_deliver(schedule=schedule, period=posted.period, acting_user=system_actor()) == 0
    )
    assert Message.objects.count() == 2 and Report.objects.count() == 2


def test_schedule_after_post_waits_for_the_posting(county):
    posted = posted_quarter(county, post=False)
    schedule = _schedule(county, posted, when="after_post")
    assert schedule_due_period(schedule) is None
    assert "0 report messages" in reports_due(now=None)


def test_schedule_save_checks(county, posted):
    from kaoping.accounts.scoping import Refused
    from kaoping.core.errors import KaopingError

    with pytest.raises(Refused):  # township staff do not set the county's schedules
        schedule_save(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            region=county.region("330304001"),
            recipients=["township_staff"],
            when="after_close",
            acting_user=county.users["bob"],
        )
    with pytest.raises(KaopingError):
        _schedule(county, posted, recipients=["villager"])
    assert not ReportSchedule.objects.exists()


# ── pages ──


def test_pages_keep_to_the_readers_area(county, posted, client_for):
    county_report = _built(county, posted)
    township_report = _built(county, posted, region="330304001", user="bob")
    bob = client_for(county, "bob")
    assert bob.get(reverse("reports:list")).status_code == 200
    page = bob.get(reverse("reports:list")).content.decode()
    assert township_report.title in page and county_report.title not in page
    assert bob.get(reverse("reports:detail", args=[township_report.pk])).status_code == 200
    assert bob.get(reverse("reports:detail", args=[county_report.pk])).status_code == 404
    assert bob.get(reverse("reports:file", args=[county_report.pk, "pdf"])).status_code == 404
    response = bob.get(reverse("reports:file", args=[township_report.pk, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert bob.get(reverse("reports:schedules")).status_code == 403
    for persona in ("carol", "erin", "grace"):
        other = client_for(county, persona)
        assert other.get(reverse("reports:list")).status_code == 403
        assert other.get(reverse("reports:detail", args=[township_report.pk])).status_code == 404
    alice = client_for(county, "alice")
    assert alice.get(reverse("reports:detail", args=[township_report.pk])).status_code == 200
    assert alice.get(reverse("reports:schedules")).status_code == 200


def test_new_report_page_builds_it(county, posted, client_for):
    bob = client_for(county, "bob")
    assert bob.get(reverse("reports:new")).status_code == 200
    response = bob.post(
        reverse("reports:new"),
        {
            "kind": "bulletin",
            "scheme": posted.scheme.pk,
            "period": posted.period.pk,
            "region": county.region("330304001").pk,
        },
    )
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.status == ReportStatus.DONE  # the in-process backend built it
    page = bob.get(response["Location"]).content.decode()
    assert reverse("reports:file", args=[report.pk, "docx"]) in page
    # The county is not his: the form does not even offer it.
    response = bob.post(
        reverse("reports:new"),
        {
            "kind": "bulletin",
            "scheme": posted.scheme.pk,
            "period": posted.period.pk,
            "region": county.region("330304").pk,
        },
    )
    assert response.status_code == 200 and Report.objects.count() == 1


def test_schedule_page_saves_and_deletes(county, posted, client_for):
    alice = client_for(county, "alice")
    response = alice.post(
        reverse("reports:schedules"),
        {
            "kind": "red_black",
            "scheme": posted.scheme.pk,
            "region": county.region("330304").pk,
            "recipients": ["county_admin", "township_staff"],
            "when": "after_post",
        },
    )
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.recipients == ["county_admin", "township_staff"]
    bob = client_for(county, "bob")
    assert bob.post(reverse("reports:schedule_delete", args=[schedule.pk])).status_code == 404
    assert bob.post(reverse("reports:schedule_toggle", args=[schedule.pk])).status_code == 404
    alice = client_for(county, "alice")
    alice.post(reverse("reports:schedule_toggle", args=[schedule.pk]))
    schedule.refresh_from_db()
    assert not schedule.active
    assert "恢复" in alice.get(reverse("reports:schedules")).content.decode()
    alice.post(reverse("reports:schedule_delete", args=[schedule.pk]))
    assert not ReportSchedule.objects.exists()


def test_list_page_queries_do_not_grow(county, posted, client_for, django_assert_max_num_queries):
    alice = client_for(county, "alice")
    for _n in range(2):
        report_create(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            period=posted.period,
            region=county.region("330304"),
            acting_user=county.users["alice"],
        )
    alice.get(reverse("reports:list"))
    with django_assert_max_num_queries(12) as few:
        alice.get(reverse("reports:list"))
    for _n in range(5):
        report_create(
            kind=ReportKind.BULLETIN,
            scheme=posted.scheme,
            period=posted.period,
            region=county.region("330304"),
            acting_user=county.users["alice"],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice.get(reverse("reports:list"))


def test_results_are_not_touched(county, posted):
    before = list(Result.objects.values_list("pk", "total", "rank"))
    _built(county, posted)
    assert list(Result.objects.values_list("pk", "total", "rank")) == before


def test_the_periodic_runner_delivers_the_scheduled_report(county, posted, settings):
    from django.conf import settings as live

    from kaoping.core.periodic import run_due

    ours = [job for job in live.PERIODIC_JOBS if job["name"] == "reports_due"]
    assert ours and ours[0]["call"] == "kaoping.reports.services.reports_due"
    settings.PERIODIC_JOBS = ours
    _schedule(county, posted)
    runs = run_due()
    assert [run.status for run in runs] == ["done"], [run.error for run in runs]
    received = dict(Message.objects.values_list("recipient__username", "url"))
    assert set(received) == {"alice", "bob"}  # the county admin and 东岭街道's staff
    assert Report.objects.get(pk=int(received["bob"].split("/")[-2])).region.code == "330304001"
    assert run_due() == []  # the hour's slot is taken: nothing runs twice
