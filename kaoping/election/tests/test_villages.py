"""一村一档: the village file's services, the talk rule's arithmetic and the file's pages.

The world (kaoping.election.testing): 东岭村 is a key village paired with D01 (grace's
department), at the stage 调研摸底 since 2026-08-20, 1 party member (talked with), 5 villager
representatives and 2 key persons; 西溪村 (oscar's, in D01's villages) has no pairing.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.election import services
from kaoping.election.file_selectors import (
    file_page,
    files_list,
    talk_progress,
    talk_required,
)
from kaoping.election.models import (
    HelpVisit,
    IssueStatus,
    RoundStatus,
    StageReached,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from kaoping.election.spec import spec_of
from kaoping.election.testing import election_world
from kaoping.regions.models import Department

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def ew(county):
    return election_world(county)


def messages_of(exc: KaopingError) -> dict[str, list[str]]:
    return exc.message_dict


def refused(call, field: str) -> str:
    """Run `call`, expect a KaopingError on `field`, return its message."""
    with pytest.raises(KaopingError) as caught:
        call()
    errors = messages_of(caught.value)
    assert field in errors, errors
    return " ".join(errors[field])


# ─── the talk rule's arithmetic (pure) ───


@pytest.mark.parametrize(
    "total, percent, required",
    [(5, 60, 3), (10, 60, 6), (7, 60, 5), (0, 60, 0), (1, 100, 1), (3, 100, 3), (11, 33, 4)],
)
def test_required_talks_round_up(total, percent, required):
    assert talk_required(total, Decimal(percent)) == required


def test_talk_progress_counts_each_group_against_the_rule(ew):
    spec = spec_of(ew.round)
    rows = talk_progress(ew.file, spec, {"party_member": 1, "representative": 2})
    by = {r.category: r for r in rows}
    assert [r.category for r in rows] == ["party_member", "representative", "key_person"]
    assert (by["party_member"].required, by["party_member"].met) == (1, True)
    # 60 % of 5 representatives needs 3: two is not enough.
    assert (by["representative"].required, by["representative"].talked) == (3, 2)
    assert not by["representative"].met
    assert by["representative"].coverage == Decimal(67)
    assert (by["key_person"].required, by["key_person"].talked, by["key_person"].met) == (
        2,
        0,
        False,
    )
    assert talk_progress(ew.file, spec, {"representative": 3})[1].met


# ─── stages ───


def test_bob_records_the_next_stage_and_the_file_moves_on(county, ew):
    bob = county.users["bob"]
    row = services.stage_record(
        file=ew.file, stage="analysis", reached_on=date(2026, 9, 25), acting_user=bob, note="已开会"
    )
    ew.file.refresh_from_db()
    assert ew.file.stage == "analysis"
    assert row.recorded_by == bob
    audit = AuditLog.objects.get(action="election.stage.recorded")
    assert audit.region_code == "330304001001" and audit.actor == bob


def test_skipping_a_stage_is_refused_naming_the_missing_one(county, ew):
    message = refused(
        lambda: services.stage_record(
            file=ew.file, stage="vetting", reached_on=TODAY(), acting_user=county.users["bob"]
        ),
        "stage",
    )
    assert "班子分析" in message
    assert not StageReached.objects.filter(stage="vetting").exists()
    ew.file.refresh_from_db()
    assert ew.file.stage == "survey"


def test_a_stage_twice_an_unknown_stage_a_future_or_earlier_date_are_refused(county, ew):
    bob = county.users["bob"]
    assert "2026-08-20" in refused(
        lambda: services.stage_record(
            file=ew.file, stage="survey", reached_on=TODAY(), acting_user=bob
        ),
        "stage",
    )
    assert "调研摸底" in refused(
        lambda: services.stage_record(
            file=ew.file, stage="nomination", reached_on=TODAY(), acting_user=bob
        ),
        "stage",
    )
    refused(
        lambda: services.stage_record(
            file=ew.file, stage="analysis", reached_on=TODAY() + timedelta(days=1), acting_user=bob
        ),
        "reached_on",
    )
    message = refused(
        lambda: services.stage_record(
            file=ew.file, stage="analysis", reached_on=date(2026, 8, 19), acting_user=bob
        ),
        "reached_on",
    )
    assert "调研摸底" in message and "2026-08-20" in message
    assert StageReached.objects.filter(file=ew.file).count() == 1


def test_undo_removes_the_last_stage_only(county, ew):
    bob = county.users["bob"]
    services.stage_record(file=ew.file, stage="analysis", reached_on=TODAY(), acting_user=bob)
    removed = services.stage_undo(file=ew.file, acting_user=bob)
    assert removed.stage == "analysis"
    ew.file.refresh_from_db()
    assert ew.file.stage == "survey"
    services.stage_undo(file=ew.file, acting_user=bob)
    ew.file.refresh_from_db()
    assert ew.file.stage == ""
    refused(lambda: services.stage_undo(file=ew.file, acting_user=bob), "__all__")
    assert AuditLog.objects.filter(action="election.stage.undone").count() == 2


def test_a_closed_round_refuses_every_change(county, ew):
    ew.round.status = RoundStatus.CLOSED
    ew.round.save()
    file = VillageFile.objects.get(pk=ew.file.pk)
    message = refused(
        lambda: services.stage_record(
            file=file, stage="analysis", reached_on=TODAY(), acting_user=county.users["bob"]
        ),
        "__all__",
    )
    assert ew.round.name in message


def test_oscar_may_record_nothing(county, ew):
    with pytest.raises(Refused):
        services.stage_record(
            file=ew.file, stage="analysis", reached_on=TODAY(), acting_user=county.users["oscar"]
        )


# ─── the file's totals, key village, team ───


def test_file_update_saves_and_refuses_a_total_below_the_talks_held(county, ew):
    bob = county.users["bob"]
    services.file_update(
        file=ew.file,
        acting_user=bob,
        representatives_total=8,
        key_persons_total=3,
        party_members_total=12,
        one_shoulder_intended=True,
        help_plan="每周走访一次",
    )
    ew.file.refresh_from_db()
    assert (ew.file.representatives_total, ew.file.party_members_total) == (8, 12)
    assert ew.file.one_shoulder_intended and ew.file.help_plan == "每周走访一次"
    message = refused(
        lambda: services.file_update(
            file=ew.file,
            acting_user=bob,
            representatives_total=8,
            key_persons_total=3,
            party_members_total=0,  # 王建国 was talked with as a party member
            one_shoulder_intended=True,
            help_plan="",
        ),
        "party_members_total",
    )
    assert "1" in message
    ew.file.refresh_from_db()
    assert ew.file.party_members_total == 12


def test_only_the_county_sets_a_key_village_with_a_department_of_its_own(county, ew):
    alice = county.users["alice"]
    other = ew.other_file
    services.key_village_set(
        file=other, is_key=True, paired_department=county.department, acting_user=alice
    )
    other.refresh_from_db()
    assert other.is_key and other.paired_department == county.department
    with pytest.raises(Refused):
        services.key_village_set(
            file=other, is_key=False, paired_department=None, acting_user=county.users["bob"]
        )
    elsewhere = Department.objects.create(
        county=county.region("330304001"), code="X01", name="街道办"
    )
    assert "街道办" in refused(
        lambda: services.key_village_set(
            file=other, is_key=True, paired_department=elsewhere, acting_user=alice
        ),
        "paired_department",
    )
    # 东岭村 has a team: it stays a key village until the team is removed.
    assert "东岭村" in refused(
        lambda: services.key_village_set(
            file=ew.file, is_key=False, paired_department=None, acting_user=alice
        ),
        "is_key",
    )


def test_team_members_are_added_with_a_round_role_and_a_valid_phone(county, ew):
    alice = county.users["alice"]
    member = services.team_member_add(
        file=ew.file,
        role="district_leader",
        name="陈区长",
        unit="区政府",
        phone="13811112222",
        acting_user=alice,
    )
    assert member.file == ew.file
    assert "区领导" in refused(
        lambda: services.team_member_add(
            file=ew.file, role="mayor", name="某", unit="", phone="", acting_user=alice
        ),
        "role",
    )
    refused(
        lambda: services.team_member_add(
            file=ew.file, role="police", name="李警官", unit="", phone="1234", acting_user=alice
        ),
        "phone",
    )
    assert "西溪村" in refused(
        lambda: services.team_member_add(
            file=ew.other_file, role="police", name="李警官", unit="", phone="", acting_user=alice
        ),
        "__all__",
    )
    with pytest.raises(Refused):  # the township records, the county manages
        services.team_member_add(
            file=ew.file,
            role="police",
            name="李警官",
            unit="",
            phone="",
            acting_user=county.users["bob"],
        )
    services.team_member_remove(member=member, acting_user=alice)
    assert not TeamMember.objects.filter(pk=member.pk).exists()
    assert AuditLog.objects.filter(action="election.team_member.removed").exists()


# ─── help visits ───


def test_grace_records_a_visit_to_her_paired_village_not_to_another(county, ew):
    grace = county.users["grace"]
    visit = services.help_visit_record(
        file=ew.file, visited_on=TODAY(), note="帮助梳理矛盾", acting_user=grace
    )
    assert visit.department == county.department
    # 西溪村 lies among D01's villages, but D01 is not paired with it.
    with pytest.raises(Refused):
        services.help_visit_record(
            file=ew.other_file, visited_on=TODAY(), note="走访", acting_user=grace
        )
    services.key_village_set(
        file=ew.other_file,
        is_key=False,
        paired_department=county.department,
        acting_user=county.users["alice"],
    )
    services.help_visit_record(
        file=VillageFile.objects.get(pk=ew.other_file.pk),
        visited_on=TODAY(),
        note="走访",
        acting_user=grace,
    )
    assert HelpVisit.objects.filter(file=ew.other_file).count() == 1


def test_township_cannot_record_help_visits_and_county_can(county, ew):
    with pytest.raises(Refused):
        services.help_visit_record(
            file=ew.file, visited_on=TODAY(), note="走访", acting_user=county.users["bob"]
        )
    services.help_visit_record(
        file=ew.file, visited_on=TODAY(), note="代录", acting_user=county.users["alice"]
    )
    refused(
        lambda: services.help_visit_record(
            file=ew.file, visited_on=TODAY(), note="", acting_user=county.users["alice"]
        ),
        "note",
    )


# ─── issues ───


def test_issues_are_added_to_a_list_of_the_round_and_cleared_once(county, ew):
    bob = county.users["bob"]
    issue = services.issue_add(
        file=ew.file,
        kind="petition",
        title="土地纠纷上访",
        owner="李四",
        deadline=TODAY() + timedelta(days=10),
        acting_user=bob,
    )
    assert issue.status == IssueStatus.OPEN
    assert "清底" in refused(
        lambda: services.issue_add(
            file=ew.file, kind="qingfeng", title="x", owner="y", deadline=TODAY(), acting_user=bob
        ),
        "kind",
    )
    refused(
        lambda: services.issue_add(
            file=ew.file, kind="finance", title=" ", owner="y", deadline=TODAY(), acting_user=bob
        ),
        "title",
    )
    cleared = services.issue_clear(issue=issue, done_on=TODAY(), acting_user=bob)
    assert (cleared.status, cleared.done_on) == (IssueStatus.DONE, TODAY())
    assert "土地纠纷上访" in refused(
        lambda: services.issue_clear(issue=issue, done_on=TODAY(), acting_user=bob), "__all__"
    )
    refused(
        lambda: services.issue_clear(
            issue=ew.issue, done_on=TODAY() + timedelta(days=2), acting_user=bob
        ),
        "done_on",
    )


# ─── talks ───


def test_talks_count_once_per_person_and_not_beyond_the_total(county, ew):
    bob = county.users["bob"]
    talk = services.talk_record(
        file=ew.file,
        category="representative",
        person_name="张三",
        held_on=TODAY(),
        acting_user=bob,
    )
    assert talk.person is None  # nobody of that name in the register
    message = refused(
        lambda: services.talk_record(
            file=ew.file,
            category="representative",
            person_name="张三",
            held_on=TODAY(),
            acting_user=bob,
        ),
        "person_name",
    )
    assert "张三" in message
    # 东岭村 has one party member, talked with already.
    assert "1" in refused(
        lambda: services.talk_record(
            file=ew.file,
            category="party_member",
            person_name="李四",
            held_on=TODAY(),
            acting_user=bob,
        ),
        "person_name",
    )
    # The same person in another category counts there.
    services.talk_record(
        file=ew.file, category="key_person", person_name="张三", held_on=TODAY(), acting_user=bob
    )
    services.talk_remove(talk=talk, acting_user=bob)
    assert not Talk.objects.filter(pk=talk.pk).exists()


def test_a_talk_links_the_register_when_the_name_is_one_persons(county, ew):
    talk = services.talk_record(
        file=ew.file,
        category="key_person",
        person_name="王建国",
        held_on=TODAY(),
        acting_user=county.users["bob"],
    )
    assert talk.person == county.persons["王建国"]


def test_three_representatives_meet_the_rule_of_sixty_per_cent_of_five(county, ew):
    bob = county.users["bob"]
    for n, name in enumerate(["甲", "乙", "丙"]):
        page = file_page(VillageFile.objects.get(pk=ew.file.pk))
        representatives = page.talks[1]
        assert (representatives.talked, representatives.met) == (n, False)
        services.talk_record(
            file=ew.file,
            category="representative",
            person_name=name,
            held_on=TODAY(),
            acting_user=bob,
        )
    representatives = file_page(VillageFile.objects.get(pk=ew.file.pk)).talks[1]
    assert (representatives.talked, representatives.required, representatives.met) == (3, 3, True)


# ─── the result ───


def _reach_election_day(file, user, day):
    for stage in ("analysis", "vetting", "election_day"):
        services.stage_record(file=file, stage=stage, reached_on=day, acting_user=user)


def test_a_result_before_election_day_is_refused_then_recorded(county, ew):
    bob = county.users["bob"]
    message = refused(
        lambda: services.result_record(
            file=ew.file,
            elected_on=TODAY(),
            first_time_success=True,
            intent_realised=True,
            one_shoulder_done=True,
            acting_user=bob,
        ),
        "__all__",
    )
    assert "选举日" in message and "东岭村" in message
    _reach_election_day(ew.file, bob, TODAY())
    services.result_record(
        file=ew.file,
        elected_on=TODAY(),
        first_time_success=True,
        intent_realised=False,
        one_shoulder_done=True,
        acting_user=bob,
    )
    ew.file.refresh_from_db()
    assert (ew.file.first_time_success, ew.file.intent_realised) == (True, False)
    # The election day stays while its result is recorded.
    refused(lambda: services.stage_undo(file=ew.file, acting_user=bob), "__all__")


# ─── reads ───


def test_the_page_marks_overdue_stages_and_issues(county, ew):
    page = file_page(ew.file, today=date(2026, 11, 1))
    by = {s.code: s for s in page.stages}
    assert by["survey"].reached_on == date(2026, 8, 20) and not by["survey"].overdue
    assert by["analysis"].overdue and by["vetting"].overdue
    assert not by["election_day"].overdue
    assert page.next_stage.code == "analysis"
    lists = {lst.code: lst for lst in page.lists}
    assert list(lists) == ["qingdi", "qingzhang", "petition", "finance"]
    assert [r.overdue for r in lists["qingzhang"].rows] == [True]  # deadline 2026-10-15
    assert page.overdue_issues == 1 and page.open_issues == 1
    assert not page.election_day_reached
    assert [role for role, _m in page.team] == ["民警"]


def test_files_list_filters_and_scopes(county, ew):
    rows, townships, spec = files_list(county.users["bob"])
    assert [r.file.village.code for r in rows] == ["330304001001", "330304001002"]
    assert [t.code for t in townships] == ["330304001"]
    rows, _t, _s = files_list(county.users["alice"], key_only=True)
    assert [r.file.village.name for r in rows] == ["东岭村"]
    rows, _t, _s = files_list(county.users["alice"], stage="-")
    assert {r.file.village.code for r in rows} == {"330304001002", "330304002001"}
    rows, _t, _s = files_list(county.users["alice"], township="330304002")
    assert [r.file.village.code for r in rows] == ["330304002001"]
    # grace: her department's villages (南山社区, 西溪村) and the one it is paired with (东岭村).
    rows, _t, _s = files_list(county.users["grace"])
    assert {r.file.village.code for r in rows} == {"330304001001", "330304001002", "330304002001"}
    assert files_list(county.users["erin"])[0] == []


# ─── pages ───


def file_url(file):
    return reverse("election:file", args=[file.pk])


def test_bob_sees_the_file_with_his_forms_and_no_county_forms(client_for, county, ew):
    page = client_for(county, "bob").get(file_url(ew.file))
    assert page.status_code == 200
    html = page.content.decode()
    for form_id in ("stage-form", "talk-form", "issue-form", "file-form"):
        assert f'id="{form_id}"' in html, form_id
    # No county forms, and no result before the election day.
    for form_id in ("team-form", "key-form", "visit-form", "result-form"):
        assert f'id="{form_id}"' not in html, form_id
    assert "村集体资产台账不清" in html and "林警官" in html and "区委政法委" in html


def test_alice_sees_the_county_forms_and_grace_only_the_visit_form(client_for, county, ew):
    html = client_for(county, "alice").get(file_url(ew.file)).content.decode()
    assert 'id="team-form"' in html and 'id="key-form"' in html and 'id="visit-form"' in html
    page = client_for(county, "grace").get(file_url(ew.file))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="visit-form"' in html
    for form_id in ("stage-form", "talk-form", "issue-form", "team-form", "key-form"):
        assert f'id="{form_id}"' not in html, form_id


def test_every_id_on_the_file_page_is_unique_and_each_label_points_at_its_field(
    client_for, county, ew
):
    # Two open issues (two "cleared on" dates), and the stage, talk and visit forms' notes.
    services.issue_add(
        file=ew.file,
        kind="petition",
        title="土地纠纷上访",
        owner="李四",
        deadline=TODAY() + timedelta(days=10),
        acting_user=county.users["bob"],
    )
    html = client_for(county, "alice").get(file_url(ew.file)).content.decode()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert [i for i in ids if ids.count(i) > 1] == []
    assert len(re.findall(r'name="done_on"', html)) == 2
    assert len(re.findall(r'name="note"', html)) >= 3  # stage, talk, visit
    targets = re.findall(r'<label for="([^"]+)"', html)
    assert targets and set(targets) <= set(ids)
    assert '<label for="id_stage-note"' in html and 'id="id_stage-note"' in html
    assert '<label for="id_visit-note"' in html and 'id="id_visit-note"' in html


def test_the_audit_log_keeps_names_not_codes(county, ew):
    bob, alice = county.users["bob"], county.users["alice"]
    spec = spec_of(ew.round)
    stage = services.stage_record(
        file=ew.file, stage=spec.stages[1].code, reached_on=TODAY(), acting_user=bob
    )
    row = AuditLog.objects.get(action="election.stage.recorded")
    assert row.after["stage"] == spec.stages[1].name
    assert row.before["stage"] == spec.stages[0].name
    assert row.object_repr == f"{ew.file.village.name} {spec.stages[1].name}"
    assert stage.stage not in row.object_repr
    services.issue_add(
        file=ew.file,
        kind="petition",
        title="土地纠纷上访",
        owner="李四",
        deadline=TODAY(),
        acting_user=bob,
    )
    row = AuditLog.objects.get(action="election.issue.added")
    assert row.after["list"] == spec.list_names()["petition"] and "kind" not in row.after
    services.key_village_set(
        file=ew.file, is_key=True, paired_department=county.department, acting_user=alice
    )
    row = AuditLog.objects.get(action="election.key_village.set")
    assert row.after["paired_department"] == county.department.name
    services.help_visit_record(file=ew.file, visited_on=TODAY(), note="走访", acting_user=alice)
    row = AuditLog.objects.get(action="election.help_visit.recorded")
    assert row.after["department"] == county.department.name
    services.talk_record(
        file=ew.file,
        category="key_person",
        person_name="王五",
        held_on=TODAY(),
        acting_user=bob,
    )
    row = AuditLog.objects.get(action="election.talk.recorded")
    assert row.after["category"] == str(TalkCategory.KEY_PERSON.label)


def test_out_of_scope_is_404_and_a_refused_post_changes_nothing(client_for, county, ew):
    assert client_for(county, "oscar").get(file_url(ew.file)).status_code == 404
    assert client_for(county, "erin").get(file_url(ew.file)).status_code == 404
    grace = client_for(county, "grace")
    response = grace.post(
        reverse("election:file_talk", args=[ew.file.pk]),
        {"category": "representative", "person_name": "张三", "held_on": "2026-09-01"},
    )
    assert response.status_code == 403
    assert Talk.objects.count() == 1
    # 西溪村: grace sees it (her department's village) but may not record its visits.
    response = grace.post(
        reverse("election:file_visit", args=[ew.other_file.pk]),
        {"visited_on": "2026-09-01", "note": "走访"},
    )
    assert response.status_code == 403
    assert HelpVisit.objects.count() == 1


def test_the_forms_post_and_come_back_to_the_file(client_for, county, ew):
    client = client_for(county, "bob")
    today = TODAY().isoformat()
    response = client.post(
        reverse("election:file_talk", args=[ew.file.pk]),
        {"category": "representative", "person_name": "张三", "held_on": today},
    )
    assert response.status_code == 302 and response.url == file_url(ew.file) + "#talks"
    response = client.post(
        reverse("election:file_stage", args=[ew.file.pk]),
        {"stage": "vetting", "reached_on": today},
    )
    assert response.status_code == 400
    assert "班子分析" in " ".join(response.context["stage_form"].errors["stage"])
    response = client.post(
        reverse("election:file_issue", args=[ew.file.pk]),
        {"kind": "finance", "title": "账目不清", "owner": "会计", "deadline": today},
    )
    assert response.status_code == 302
    issue = VillageIssue.objects.get(title="账目不清")
    response = client.post(
        reverse("election:file_issue_clear", args=[issue.pk]), {"done_on": today}
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == IssueStatus.DONE
    response = client.post(reverse("election:file_stage_undo", args=[ew.file.pk]))
    assert response.status_code == 302
    ew.file.refresh_from_db()
    assert ew.file.stage == ""


def test_the_files_list_page_filters(client_for, county, ew):
    client = client_for(county, "alice")
    page = client.get(reverse("election:files"), {"key": "on"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "东岭村" in html and "西溪村" not in html
    assert client_for(county, "erin").get(reverse("election:files")).status_code == 403


def test_the_file_page_takes_a_fixed_number_of_queries(client_for, county, ew):
    client = client_for(county, "alice")
    client.get(file_url(ew.file))
    with CaptureQueriesContext(connection) as before:
        client.get(file_url(ew.file))
    for n in range(5):
        services.talk_record(
            file=ew.file,
            category="representative",
            person_name=f"代表{n}",
            held_on=TODAY(),
            acting_user=county.users["bob"],
        )
        services.issue_add(
            file=ew.file,
            kind="qingdi",
            title=f"问题{n}",
            owner="王建国",
            deadline=TODAY(),
            acting_user=county.users["bob"],
        )
    with CaptureQueriesContext(connection) as after:
        client.get(file_url(ew.file))
    assert len(after) == len(before)


def test_the_result_form_appears_once_the_election_day_is_reached(client_for, county, ew):
    client = client_for(county, "bob")
    _reach_election_day(ew.file, county.users["bob"], TODAY())
    html = client.get(file_url(ew.file)).content.decode()
    assert 'id="result-form"' in html
    response = client.post(
        reverse("election:file_result", args=[ew.file.pk]),
        {"elected_on": TODAY().isoformat(), "first_time_success": "on", "intent_realised": "on"},
    )
    assert response.status_code == 302 and response.url.endswith("#result")
    ew.file.refresh_from_db()
    assert (ew.file.first_time_success, ew.file.intent_realised, ew.file.one_shoulder_done) == (
        True,
        True,
        False,
    )
