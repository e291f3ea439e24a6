"""The election round's weekly report (换届工作周报): built by the Monday job per township and per
department (its villages, covered or paired, as its board), delivered once to the township's staff and the department's scorers, with
the board's numbers of the week's last day and nothing about the persons checked."""

import io
import subprocess
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.election import board
from kaoping.election.models import IssueStatus, VillageIssue
from kaoping.election.testing import election_world
from kaoping.inbox.models import Message
from kaoping.reports.election import (
    election_weekly_build,
    election_weekly_data,
    election_weekly_job,
)
from kaoping.reports.models import Report, ReportKind, ReportStatus
from kaoping.testing import require_tool

WEEK = date(2026, 10, 12)  # a Monday: the week 2026-W42, 12–18 October
MONDAY_AFTER = timezone.make_aware(datetime(2026, 10, 19, 7, 30))


@pytest.fixture
def ew(county):
    return election_world(county)


def _inbox(county, username):
    return list(Message.objects.filter(recipient=county.users[username]))


def test_the_job_builds_each_township_and_department_and_delivers_to_the_right_inboxes(county, ew):
    summary = election_weekly_job(now=MONDAY_AFTER)
    reports = list(Report.objects.filter(kind=ReportKind.ELECTION_WEEKLY).order_by("id"))
    # 东岭街道, 西溪镇, and 区委政法委 (东岭村's paired department).
    assert [(r.region.code, r.department_id) for r in reports] == [
        ("330304001", None),
        ("330304002", None),
        ("330304", county.department.pk),
    ]
    assert all(r.status == ReportStatus.DONE and r.label == "2026-W42" for r in reports)
    assert all(r.pdf and r.docx and r.xlsx and r.election_round == ew.round for r in reports)
    assert "2026-W42: 3 weekly reports" in summary

    (bob,) = _inbox(county, "bob")
    assert "东岭街道" in bob.title and "42" in bob.title
    assert bob.url == reverse("reports:detail", args=[reports[0].pk])
    assert bob.attachment
    (grace,) = _inbox(county, "grace")
    assert "区委政法委" in grace.title
    assert grace.attachment and grace.url == ""  # no reports pages for her: the PDF is it
    assert _inbox(county, "oscar") == [] and _inbox(county, "erin") == []


def test_running_the_job_twice_in_a_week_builds_and_delivers_nothing_more(county, ew):
    election_weekly_job(now=MONDAY_AFTER)
    reports, messages = Report.objects.count(), Message.objects.count()
    summary = election_weekly_job(now=MONDAY_AFTER + timedelta(hours=5))
    assert "0 messages delivered" in summary
    assert Report.objects.count() == reports
    assert Message.objects.count() == messages
    # The following Monday is the next week: a new report each, a new message each.
    election_weekly_job(now=MONDAY_AFTER + timedelta(days=7))
    assert Report.objects.filter(label="2026-W43").count() == 3
    assert len(_inbox(county, "bob")) == 2


def test_the_numbers_are_the_boards_of_the_weeks_last_day(county, ew):
    township = county.region("330304001")
    data = election_weekly_data(ew.round, region=township, week_start=WEEK)
    rows, total = board.board(
        ew.round, user=county.users["alice"], region=township, today=date(2026, 10, 18)
    )
    assert data["total"] == total
    assert data["rows"] == rows
    assert [r.region.name for r in data["rows"]] == ["东岭村", "南山社区"]
    # Both are behind their stages (班子分析 was due on 30 September): red, and said why.
    assert {item["village"] for item in data["red"]} == {"东岭村", "南山社区"}
    assert all(item["reasons"] for item in data["red"])
    overdue = {(i["village"], i["title"]) for i in data["overdue"]}
    assert ("东岭村", "村集体资产台账不清") in overdue  # its deadline was 15 October
    assert ("南山社区", "调研摸底") in overdue
    assert data["upcoming"] == []  # 资格联审 is due on 31 October, beyond the next seven days
    later = election_weekly_data(ew.round, region=township, week_start=WEEK + timedelta(days=7))
    assert {(i["village"], i["title"]) for i in later["upcoming"]} == {
        ("东岭村", "资格联审"),
        ("南山社区", "资格联审"),
    }


def test_a_departments_villages_are_the_same_on_its_board_list_todos_and_report(
    county, ew, monkeypatch
):
    # D01 covers 南山社区 and 西溪村 (Department.villages) and is 东岭村's paired department.
    from types import SimpleNamespace

    from django.utils import translation

    from kaoping.election import todos
    from kaoping.election.access import department_files
    from kaoping.election.file_selectors import files_list
    from kaoping.reports.election import _targets

    grace = county.users["grace"]
    three = ["东岭村", "南山社区", "西溪村"]
    week_end = WEEK + timedelta(days=6)
    assert sorted(f.village.name for f in department_files(ew.round, county.department)) == three

    rows, total = board.board(ew.round, user=grace, region=county.region("330304"), today=week_end)
    village_rows = board.village_rows(
        ew.round,
        board.scoped_files(ew.round, user=grace, region=county.region("330304")),
        today=week_end,
    )
    assert [r.region.name for r in village_rows] == three and total.villages == 3

    listed, _townships, _spec = files_list(grace)
    assert sorted(r.file.village.name for r in listed) == three

    monkeypatch.setattr(todos, "timezone", SimpleNamespace(localdate=lambda: week_end))
    with translation.override("en"):
        titles = {t.title: t for t in todos.home_todos(type(grace).objects.get(pk=grace.pk))}
    red = [t for title, t in titles.items() if "of your department in red" in title]
    assert [t.count for t in red] == [total.red_villages]

    assert (None, county.department) in _targets(ew.round)
    data = election_weekly_data(ew.round, department=county.department, week_start=WEEK)
    assert [r.region.name for r in data["rows"]] == three
    assert data["rows"] == village_rows
    assert data["total"].indicators == total.indicators
    assert (data["total"].villages, data["total"].red_villages, data["total"].amber_villages) == (
        total.villages,
        total.red_villages,
        total.amber_villages,
    )


def test_a_department_with_only_covered_villages_gets_a_report(county, ew):
    from kaoping.reports.election import _targets

    ew.file.paired_department = None
    ew.file.save(update_fields=["paired_department"])
    # D01 still covers 南山社区 and 西溪村; D02 (区信访局) has no village.
    departments = [d for _r, d in _targets(ew.round) if d is not None]
    assert departments == [county.department]
    data = election_weekly_data(ew.round, department=county.department, week_start=WEEK)
    assert [r.region.name for r in data["rows"]] == ["南山社区", "西溪村"]


def test_the_weeks_changes_are_counted(county, ew):
    VillageIssue.objects.filter(pk=ew.issue.pk).update(
        status=IssueStatus.DONE, done_on=date(2026, 10, 14)
    )
    data = election_weekly_data(ew.round, region=county.region("330304001"), week_start=WEEK)
    assert data["changes"]["issues_cleared"] == 1
    assert data["changes"]["talks_held"] == 0  # the talk was on 1 September
    earlier = election_weekly_data(
        ew.round, department=county.department, week_start=date(2026, 8, 31)
    )
    assert earlier["changes"]["talks_held"] == 1
    # D01's villages: 东岭村 (paired), 南山社区 and 西溪村 (covered), as on its board.
    assert [r.region.name for r in earlier["rows"]] == ["东岭村", "南山社区", "西溪村"]
    # The finding and the issue were entered this week (their rows were written today).
    today = timezone.localdate()
    this_week = election_weekly_data(
        ew.round, region=county.region("330304001"), week_start=today - timedelta(today.weekday())
    )
    assert this_week["changes"]["findings_received"] == 1
    assert this_week["changes"]["issues_added"] == 1
    other = election_weekly_data(
        ew.round, region=county.region("330304002"), week_start=today - timedelta(today.weekday())
    )
    assert other["changes"]["findings_received"] == 0  # 赵强's sheet has no finding


def _pdf_text(report, tmp_path) -> str:
    pdftotext = require_tool("pdftotext", "poppler-utils")
    path = tmp_path / "report.pdf"
    with report.pdf.open("rb") as handle:
        path.write_bytes(handle.read())
    return subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _docx_text(report) -> str:
    with report.docx.open("rb") as handle:
        document = Document(io.BytesIO(handle.read()))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_the_files_name_the_red_villages_and_no_person_checked(county, ew, tmp_path):
    reports = election_weekly_build(
        round_=ew.round, week_start=WEEK, acting_user=county.users["alice"]
    )
    township = next(r for r in reports if r.region.code == "330304001")
    department = next(r for r in reports if r.department_id)
    secret = [
        county.persons["王建国"].id_number,
        county.persons["赵强"].id_number,
        ew.finding.summary,
        ew.finding.document,
    ]
    department_red = [
        row.region.name
        for row in election_weekly_data(ew.round, department=county.department, week_start=WEEK)[
            "rows"
        ]
        if row.colour == board.RED
    ]
    assert "东岭村" in department_red
    # The indicators are named as on the board (组织意图实现率, not 组织意图实现).
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        labels = [str(label) for label in board.INDICATOR_LABELS.values()]
    for report, red in ((township, ["东岭村", "南山社区"]), (department, department_red)):
        for text in (_pdf_text(report, tmp_path), _docx_text(report)):
            compact = "".join(text.split())
            for name in red + labels:
                assert name in compact
            for value in secret:
                assert value not in compact
    assert "西溪村" not in "".join(_docx_text(township).split())


def test_build_is_refused_to_those_who_may_not_report_on_the_county(county, ew):
    for actor in (county.users["bob"], county.users["grace"], None):
        with pytest.raises(Refused):
            election_weekly_build(round_=ew.round, week_start=WEEK, acting_user=actor)
    assert not Report.objects.exists() and not Message.objects.exists()


def test_a_week_starts_on_a_monday(county, ew):
    from kaoping.core.errors import KaopingError

    with pytest.raises(KaopingError):
        election_weekly_build(
            round_=ew.round, week_start=WEEK + timedelta(days=1), acting_user=system_actor()
        )


def test_who_sees_the_report_and_its_pdf(county, ew, client_for):
    election_weekly_job(now=MONDAY_AFTER)
    township = Report.objects.get(region__code="330304001", kind=ReportKind.ELECTION_WEEKLY)
    department = Report.objects.get(department=county.department)

    bob = client_for(county, "bob")
    page = bob.get(reverse("reports:list")).content.decode()
    assert township.title in page and department.title not in page
    assert "西溪镇" not in page
    assert bob.get(reverse("reports:detail", args=[township.pk])).status_code == 200
    assert bob.get(reverse("reports:detail", args=[department.pk])).status_code == 404

    alice = client_for(county, "alice")
    page = alice.get(reverse("reports:list")).content.decode()
    assert township.title in page and department.title in page
    detail = alice.get(reverse("reports:detail", args=[department.pk])).content.decode()
    assert "区委政法委" in detail and "2026-W42" in detail

    # grace has no reports pages; her message carries the PDF, and she may download it.
    grace = client_for(county, "grace")
    (message,) = _inbox(county, "grace")
    response = grace.get(reverse("inbox:attachment", args=[message.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert (
        client_for(county, "oscar").get(reverse("inbox:attachment", args=[message.pk])).status_code
        == 404
    )


def test_a_person_cannot_ask_for_an_election_weekly_report(county, ew):
    from kaoping.core.errors import KaopingError
    from kaoping.reports.services import report_create

    with pytest.raises(KaopingError):  # it is the round's job's: no scheme, no form
        report_create(
            kind=ReportKind.ELECTION_WEEKLY,
            scheme=None,
            region=county.region("330304"),
            label="2026",
            acting_user=county.users["alice"],
        )


def test_the_periodic_runner_runs_the_weekly_job_on_monday_morning(county, ew, settings):
    from django.conf import settings as live

    from kaoping.core.periodic import run_due

    ours = [job for job in live.PERIODIC_JOBS if job["name"] == "election_weekly"]
    assert ours and ours[0]["call"] == "kaoping.reports.election.election_weekly_job"
    settings.PERIODIC_JOBS = ours
    runs = run_due(now=MONDAY_AFTER + timedelta(minutes=5))
    assert [run.status for run in runs] == ["done"], [run.error for run in runs]
    assert Report.objects.filter(label="2026-W42").count() == 3
    assert {m.recipient.username for m in Message.objects.select_related("recipient")} == {
        "bob",
        "grace",
    }
