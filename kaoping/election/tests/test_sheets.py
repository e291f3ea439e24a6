"""一人一表: who sees a person's sheet (the county and the township of its village, nobody else),
every view and export audited, ID numbers never in full on a page; adding a candidate by ID
number and marking the organisation's intention."""

import io
import re
from datetime import date

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.election import sheet_selectors, sheets
from kaoping.election.models import Finding, PersonSheet, Qualification, RoundStatus
from kaoping.election.testing import election_world
from kaoping.people.models import Person, Subject, SubjectKind
from kaoping.testing import make_id_number

ID18 = re.compile(r"\d{17}[\dX]")
NOBODY_ELSE = ["carol", "erin", "grace", "oscar"]


@pytest.fixture
def ew(county):
    return election_world(county)


def pages(ew):
    """Every page of the sheets, by name, with the sheet of 东岭村 where one is needed."""
    return {
        "sheets": reverse("election:sheets"),
        "sheet": reverse("election:sheet", args=[ew.sheet.pk]),
        "sheet_edit": reverse("election:sheet_edit", args=[ew.sheet.pk]),
        "candidate_add": reverse("election:candidate_add"),
        "sheets_export": reverse("election:sheets_export"),
    }


def full_numbers(county) -> set[str]:
    return set(Person.objects.exclude(id_number=None).values_list("id_number", flat=True))


def assert_no_full_id_number(county, body: str) -> None:
    numbers = full_numbers(county)
    assert not [n for n in ID18.findall(body) if n in numbers]
    assert not [n for n in numbers if n in body]


def audits(action: str):
    return AuditLog.objects.filter(action=action)


# ─── who sees what ───


def test_alice_sees_every_sheet_of_the_county(county, ew, client_for):
    client = client_for(county, "alice")
    body = client.get(reverse("election:sheets")).content.decode()
    assert "王建国" in body and "赵强" in body
    for sheet in (ew.sheet, ew.other_sheet):
        response = client.get(reverse("election:sheet", args=[sheet.pk]))
        assert response.status_code == 200
        assert sheet.person.name in response.content.decode()


def test_bob_sees_his_townships_sheet_and_not_the_other(county, ew, client_for):
    client = client_for(county, "bob")
    body = client.get(reverse("election:sheets")).content.decode()
    assert "王建国" in body and "赵强" not in body
    assert client.get(reverse("election:sheet", args=[ew.sheet.pk])).status_code == 200
    assert client.get(reverse("election:sheet", args=[ew.other_sheet.pk])).status_code == 404
    assert client.get(reverse("election:sheet_edit", args=[ew.other_sheet.pk])).status_code == 404
    assert not audits("election.sheet.viewed").filter(object_id=str(ew.other_sheet.pk)).exists()


@pytest.mark.parametrize("username", NOBODY_ELSE)
def test_nobody_else_sees_a_sheet_or_exports(county, ew, client_for, username):
    client = client_for(county, username)
    before = AuditLog.objects.count()
    for name, url in pages(ew).items():
        assert client.get(url).status_code in (403, 404), name
    for sheet in (ew.sheet, ew.other_sheet):
        assert client.get(reverse("election:sheet", args=[sheet.pk])).status_code in (403, 404)
    response = client.post(reverse("election:sheets_export"), {"reason": "联审会议材料"})
    assert response.status_code in (403, 404)
    response = client.post(
        reverse("election:sheet_edit", args=[ew.sheet.pk]),
        {"is_candidate": "on", "intended": ""},
    )
    assert response.status_code in (403, 404)
    response = client.post(
        reverse("election:candidate_add"), {"id_number": county.persons["张伟"].id_number}
    )
    assert response.status_code in (403, 404)
    assert AuditLog.objects.count() == before
    assert PersonSheet.objects.count() == 2


def test_anonymous_is_sent_to_log_in(county, ew, client):
    for url in pages(ew).values():
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert not audits("election.sheet.viewed").exists()


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "erin", "grace", "oscar"])
def test_no_page_shows_a_full_id_number(county, ew, client_for, username):
    client = client_for(county, username)
    urls = [*pages(ew).values(), reverse("election:sheet", args=[ew.other_sheet.pk])]
    urls.append(reverse("election:sheets") + "?q=王")
    for url in urls:
        response = client.get(url)
        assert_no_full_id_number(county, response.content.decode())


# ─── every view audited ───


def test_every_view_of_a_sheet_writes_one_audit_row(county, ew, client_for):
    client = client_for(county, "bob")
    url = reverse("election:sheet", args=[ew.sheet.pk])
    client.get(url)
    client.get(url)
    rows = list(audits("election.sheet.viewed").order_by("id"))
    assert len(rows) == 2
    assert {r.actor.username for r in rows} == {"bob"}
    assert {r.region_code for r in rows} == {"330304001001"}
    assert {r.object_id for r in rows} == {str(ew.sheet.pk)}


def test_the_list_does_not_grow_queries_with_sheets(county, ew, client_for):
    client = client_for(county, "alice")
    url = reverse("election:sheets")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for name in ("张伟", "刘芳", "陈明", "杨丽", "黄敏"):
        PersonSheet.objects.create(
            round=ew.round,
            person=county.persons[name],
            village=ew.sheet.village,
            is_candidate=True,
            added_by=system_actor(),
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert "陈明" in body
    assert len(many) == len(few)


# ─── the sheet's content ───


def test_the_sheet_shows_each_condition_with_the_departments_answers(county, ew, client_for):
    Finding.objects.create(
        round=ew.round,
        sheet=ew.sheet,
        department=ew.petitions_department,
        condition="petition_agitation",
        hit=True,
        summary="2025年组织群体上访两次",
        found_on=date(2026, 9, 12),
        document="瓯信〔2026〕3号",
        recorded_by=system_actor(),
    )
    Finding.objects.create(
        round=ew.round,
        sheet=ew.sheet,
        department=ew.petitions_department,
        summary="曾参与村务监督",
        found_on=date(2026, 9, 13),
        recorded_by=system_actor(),
    )
    PersonSheet.objects.filter(pk=ew.sheet.pk).update(
        qualification=Qualification.UNFIT, qualification_reason="煽动组织群体上访（区信访局）"
    )
    response = client_for(county, "bob").get(reverse("election:sheet", args=[ew.sheet.pk]))
    body = response.content.decode()
    # Both departments' findings, each with its department, date and document.
    for text in (
        "受过刑事处罚",
        "区委政法委",
        "2026-09-10",
        "瓯政法〔2026〕12号",
        "经查无刑事处罚记录",
        "煽动组织群体上访",
        "区信访局",
        "2026-09-12",
        "瓯信〔2026〕3号",
        "2025年组织群体上访两次",
        "曾参与村务监督",
        "煽动组织群体上访（区信访局）",
    ):
        assert text in body, text
    content = response.context["content"]
    assert [(c.code, c.status) for c in content.conditions] == [
        ("criminal", "clear"),
        ("petition_agitation", "hit"),
    ]
    assert [f.summary for f in content.notes] == ["曾参与村务监督"]
    person = county.persons["王建国"]
    assert content.masked_id_number == person.masked_id_number
    assert content.age == date.today().year - 1980 - (date.today() < date(date.today().year, 1, 1))
    assert [p.post for p in content.posts] == ["secretary"]
    assert content.reviews == []
    assert "暂无考评" in body or "No review yet." in body


def test_the_cadre_review_is_the_latest_closed_period_per_scheme(county, ew, client_for):
    from kaoping.periods.models import Period, PeriodStatus, Result
    from kaoping.schemes.services import scheme_load

    version, _created = scheme_load(
        text=(settings.BASE_DIR / "schemes" / "qianfen-cadre.yaml").read_text(encoding="utf-8"),
        filename="qianfen-cadre.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    person = county.persons["王建国"]
    subject, _created = Subject.objects.get_or_create(
        kind=SubjectKind.CADRE,
        person=person,
        defaults={"region": ew.sheet.village, "name": "王建国"},
    )
    for label, start, end, status, total, grade in (
        ("2025-H1", date(2025, 1, 1), date(2025, 6, 30), PeriodStatus.FINAL, 700, "jibenchengzhi"),
        ("2025-H2", date(2025, 7, 1), date(2025, 12, 31), PeriodStatus.CLOSED, 912, "youxiu"),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30), PeriodStatus.OPEN, 0, ""),
    ):
        period = Period.objects.create(
            scheme=version.scheme,
            version=version,
            cadence="half_year",
            label=label,
            start=start,
            end=end,
            status=status,
        )
        if status != PeriodStatus.OPEN:
            scaled = total * 10**version.decimals
            Result.objects.create(
                period=period,
                subject=subject,
                total=scaled,
                raw_total=scaled,
                grade_code=grade,
                rank=1,
            )
    [review] = sheet_selectors.cadre_reviews(person)
    assert (review.period, review.total, review.grade) == ("2025-H2", 912, "优秀")
    body = client_for(county, "bob").get(reverse("election:sheet", args=[ew.sheet.pk]))
    body = body.content.decode()
    assert "村“两委”班子成员千分制考核" in body and "2025-H2" in body and "优秀" in body


# ─── filters and counts ───


def test_filters_and_counts(county, ew, client_for):
    PersonSheet.objects.filter(pk=ew.other_sheet.pk).update(qualification=Qualification.PASS)
    client = client_for(county, "alice")
    response = client.get(reverse("election:sheets"))
    assert response.context["counts"] == {
        "total": 2,
        "pass": 1,
        "unfit": 0,
        "pending": 1,
    }
    names = lambda r: [s.person.name for s in r.context["page"]]  # noqa: E731
    assert names(client.get(reverse("election:sheets") + "?qualification=pass")) == ["赵强"]
    assert names(client.get(reverse("election:sheets") + "?village=330304002001")) == ["赵强"]
    assert names(client.get(reverse("election:sheets") + "?township=330304001")) == ["王建国"]
    assert names(client.get(reverse("election:sheets") + "?intended=1")) == ["王建国"]
    assert names(client.get(reverse("election:sheets") + "?intended=0")) == ["赵强"]
    assert names(client.get(reverse("election:sheets") + "?q=建国")) == ["王建国"]
    assert names(client.get(reverse("election:sheets") + "?q=zq")) == ["赵强"]
    # A filter naming a village outside bob's township shows him nothing, not that village.
    bob = client_for(county, "bob")
    assert names(bob.get(reverse("election:sheets") + "?village=330304002001")) == []


# ─── the export ───


def workbook_rows(response) -> list[list]:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_a_get_of_the_export_shows_the_reason_form(county, ew, client_for):
    response = client_for(county, "bob").get(reverse("election:sheets_export"))
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert not audits("election.sheets.exported").exists()


@pytest.mark.parametrize("reason", ["", "  ", "看看"])
def test_the_export_without_a_reason_is_refused_and_writes_nothing(county, ew, client_for, reason):
    before = AuditLog.objects.count()
    response = client_for(county, "bob").post(reverse("election:sheets_export"), {"reason": reason})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors["reason"]
    assert AuditLog.objects.count() == before


def test_bobs_export_is_his_townships_sheets_masked_and_audited(county, ew, client_for):
    response = client_for(county, "bob").post(
        reverse("election:sheets_export"), {"reason": "资格联审会议材料"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = workbook_rows(response)
    assert len(rows) == 2 and rows[1][2] == "王建国"
    assert rows[1][3] == county.persons["王建国"].masked_id_number
    row = audits("election.sheets.exported").get()
    assert row.actor.username == "bob"
    assert row.after == {"reason": "资格联审会议材料", "count": 1, "full_id_numbers": False}
    assert row.region_code == "330304001001"


def test_the_export_follows_the_filter(county, ew, client_for):
    url = reverse("election:sheets_export") + "?qualification=unfit"
    response = client_for(county, "alice").post(url, {"reason": "联审会议"})
    assert len(workbook_rows(response)) == 1  # the header alone
    assert audits("election.sheets.exported").get().after["count"] == 0


def test_the_county_admins_export_carries_full_id_numbers_and_says_so(county, ew, client_for):
    client = client_for(county, "alice")
    assert "in full" in client.get(reverse("election:sheets_export")).content.decode() or (
        "完整" in client.get(reverse("election:sheets_export")).content.decode()
    )
    rows = workbook_rows(client.post(reverse("election:sheets_export"), {"reason": "联审会议"}))
    assert {r[3] for r in rows[1:]} == {
        county.persons["王建国"].id_number,
        county.persons["赵强"].id_number,
    }
    assert audits("election.sheets.exported").get().after["full_id_numbers"] is True


# ─── adding a candidate ───


def test_bob_adds_a_candidate_by_id_number(county, ew, client_for):
    person = county.persons["张伟"]  # lives in 东岭村's second grid
    response = client_for(county, "bob").post(
        reverse("election:candidate_add"),
        {"id_number": person.id_number, "intended": "on", "intended_post": "村委会主任"},
    )
    sheet = PersonSheet.objects.get(person=person)
    assert response.status_code == 302
    assert response["Location"] == reverse("election:sheet", args=[sheet.pk])
    assert sheet.village.code == "330304001001"
    assert sheet.is_candidate and not sheet.is_incumbent and sheet.intended
    assert sheet.intended_post == "村委会主任"
    assert sheet.qualification == Qualification.PENDING
    row = audits("election.candidate.added").get()
    assert row.actor.username == "bob" and row.region_code == "330304001001"


def test_an_incumbent_becomes_a_candidate_on_the_same_sheet(county, ew):
    sheet = sheets.candidate_add(
        round=ew.round,
        id_number=county.persons["王建国"].id_number,
        acting_user=county.users["bob"],
    )
    assert sheet.pk == ew.sheet.pk
    assert sheet.is_incumbent and sheet.is_candidate
    assert PersonSheet.objects.filter(person=county.persons["王建国"]).count() == 1
    with pytest.raises(KaopingError) as again:
        sheets.candidate_add(
            round=ew.round,
            id_number=county.persons["王建国"].id_number,
            acting_user=county.users["bob"],
        )
    assert "已是" in str(again.value.messages) or "already" in str(again.value.messages)


@pytest.mark.parametrize(
    "number",
    [
        "33030419800101001",  # 17 characters
        make_id_number(1)[:17] + ("0" if make_id_number(1)[17] != "0" else "1"),  # check digit
        make_id_number(77),  # valid, but nobody has it
        make_id_number(7),  # 赵强: lives in 西溪村, outside bob's township
    ],
)
def test_a_bad_or_unknown_id_number_is_refused_on_the_field(county, ew, client_for, number):
    before = AuditLog.objects.count()
    response = client_for(county, "bob").post(
        reverse("election:candidate_add"), {"id_number": number}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["id_number"]
    assert PersonSheet.objects.count() == 2 and AuditLog.objects.count() == before
    assert_no_full_id_number(county, response.content.decode())
    # The field comes back empty on purpose; the page says why.
    assert 'id="id-number-note"' in response.content.decode()


def test_no_candidate_is_added_to_a_closed_round(county, ew):
    ew.round.status = RoundStatus.CLOSED
    ew.round.save(update_fields=["status"])
    with pytest.raises(KaopingError):
        sheets.candidate_add(
            round=ew.round,
            id_number=county.persons["张伟"].id_number,
            acting_user=county.users["bob"],
        )
    assert PersonSheet.objects.count() == 2


def test_oscar_and_nobody_cannot_add_a_candidate(county, ew):
    for actor in (county.users["oscar"], county.users["grace"], None):
        with pytest.raises(Refused):
            sheets.candidate_add(
                round=ew.round, id_number=county.persons["张伟"].id_number, acting_user=actor
            )
    assert PersonSheet.objects.count() == 2


# ─── the intention ───


def test_bob_marks_the_intention_with_before_and_after(county, ew, client_for):
    client = client_for(county, "bob")
    url = reverse("election:sheet_edit", args=[ew.other_sheet.pk])
    assert client.get(url).status_code == 404  # 西溪村's
    url = reverse("election:sheet_edit", args=[ew.sheet.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"is_candidate": "on", "intended": "on", "intended_post": "书记、主任"}
    )
    assert response.status_code == 302
    sheet = PersonSheet.objects.get(pk=ew.sheet.pk)
    assert sheet.is_candidate and sheet.intended and not sheet.one_shoulder_intended
    row = audits("election.sheet.updated").get()
    assert row.before["one_shoulder_intended"] is True and row.before["is_candidate"] is False
    assert (
        row.after["one_shoulder_intended"] is False and row.after["intended_post"] == "书记、主任"
    )


def test_one_shoulder_needs_an_intended_candidate(county, ew, client_for):
    response = client_for(county, "bob").post(
        reverse("election:sheet_edit", args=[ew.sheet.pk]),
        {"is_candidate": "on", "one_shoulder_intended": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["one_shoulder_intended"]
    assert not audits("election.sheet.updated").exists()


def test_an_unchanged_intention_writes_no_audit_row(county, ew):
    with transaction.atomic():
        sheets.sheet_update(
            sheet=ew.sheet,
            acting_user=county.users["alice"],
            intended=True,
            intended_post="",
            one_shoulder_intended=True,
            is_candidate=False,
        )
    assert not audits("election.sheet.updated").exists()


def test_sheet_open_is_refused_to_a_department(county, ew):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((Http404, PermissionDenied)), transaction.atomic():
        sheet_selectors.sheet_open(county.users["grace"], ew.other_sheet.pk)
    with pytest.raises(Http404), transaction.atomic():
        sheet_selectors.sheet_open(county.users["grace"], ew.sheet.pk)
    assert not audits("election.sheet.viewed").exists()


def test_a_candidate_with_one_shoulder_but_not_intended_is_refused(county, ew):
    before = AuditLog.objects.count()
    with pytest.raises(KaopingError) as refused:
        sheets.candidate_add(
            round=ew.round,
            id_number=county.persons["张伟"].id_number,
            acting_user=county.users["bob"],
            one_shoulder_intended=True,
        )
    assert "one_shoulder_intended" in refused.value.message_dict
    assert PersonSheet.objects.count() == 2 and AuditLog.objects.count() == before


def test_the_sheet_names_who_added_it_by_name_else_by_login(county, ew, client_for):
    bob = county.users["bob"]
    PersonSheet.objects.filter(pk=ew.sheet.pk).update(added_by=bob)
    url = reverse("election:sheet", args=[ew.sheet.pk])
    bob.first_name, bob.last_name = "", ""
    bob.save(update_fields=["first_name", "last_name"])
    body = client_for(county, "bob").get(url).content.decode()
    assert "bob ·" in body  # no name on the login: its login name
    bob.first_name = "李明"
    bob.save(update_fields=["first_name"])
    body = client_for(county, "bob").get(url).content.decode()
    assert "李明 ·" in body and "bob ·" not in body
