"""A round of village elections in the small test county (kaoping.testing.build_small_county),
with one row of every kind, for the election tests and the permission cases.

东岭村 is a key village paired with 区委政法委 (D01, grace's department), with a team member, a
stage reached, an open issue, a talk and a help visit; 王建国 (东岭村's secretary) and 赵强 (西溪村's)
have sheets as incumbents; D01 found nothing against 王建国 on the condition it answers. Rows
are written directly, not through the services, so that every test starts from the same world.
"""

from dataclasses import dataclass
from datetime import date

import yaml

from kaoping.accounts.scoping import system_actor
from kaoping.regions.models import Department

from .models import (
    ElectionRound,
    Finding,
    HelpVisit,
    PersonSheet,
    Qualification,
    RoundVersion,
    StageReached,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from .spec import RoundSpec

ROUND_YAML = """\
code: test-2026
name: 瓯海区2026年村社组织换届
stages:
  - {code: survey, name: 调研摸底, due: 2026-08-31}
  - {code: analysis, name: 班子分析, due: 2026-09-30}
  - {code: vetting, name: 资格联审, due: 2026-10-31}
  - {code: election_day, name: 选举日, due: 2026-12-20, election_day: true}
conditions:
  - {code: criminal, name: 受过刑事处罚, department: D01}
  - {code: petition_agitation, name: 煽动组织群体上访, department: D02}
campaigns:
  - {code: qingdi, name: 清底}
  - {code: qingzhang, name: 清账}
team_roles:
  - {code: district_leader, name: 区领导}
  - {code: police, name: 民警}
talks: {party_members: 100, representatives: 60, key_persons: 100}
"""


@dataclass
class ElectionWorld:
    round: ElectionRound
    petitions_department: Department  # D02 区信访局: answers petition_agitation, no villages
    file: VillageFile  # 东岭村's
    other_file: VillageFile  # 西溪村's (oscar's village, outside bob's township)
    sheet: PersonSheet  # 王建国, 东岭村
    other_sheet: PersonSheet  # 赵强, 西溪村
    finding: Finding  # D01 on 王建国: criminal, not found
    issue: VillageIssue
    talk: Talk
    help_visit: HelpVisit
    team_member: TeamMember


def election_world(county) -> ElectionWorld:
    system = system_actor()
    spec = RoundSpec.model_validate(yaml.safe_load(ROUND_YAML))
    data = spec.model_dump(mode="json")
    round_ = ElectionRound.objects.create(
        county=county.region("330304"), code=spec.code, name=spec.name, spec=data, opened_by=system
    )
    RoundVersion.objects.create(
        round=round_, number=1, filename="test.yaml", source=ROUND_YAML, spec=data, loaded_by=system
    )
    petitions = Department.objects.create(
        county=county.region("330304"), code="D02", name="区信访局"
    )
    files = {
        code: VillageFile.objects.create(round=round_, village=county.region(code))
        for code in ("330304001001", "330304001002", "330304002001")
    }
    dongling = files["330304001001"]
    dongling.is_key = True
    dongling.paired_department = county.department
    dongling.party_members_total = 1
    dongling.representatives_total = 5
    dongling.key_persons_total = 2
    dongling.stage = "survey"
    dongling.save()
    StageReached.objects.create(
        file=dongling, stage="survey", reached_on=date(2026, 8, 20), recorded_by=system
    )
    team_member = TeamMember.objects.create(
        file=dongling, role="police", name="林警官", unit="东岭派出所", phone="13900001111"
    )
    sheet = PersonSheet.objects.create(
        round=round_,
        person=county.persons["王建国"],
        village=dongling.village,
        is_incumbent=True,
        intended=True,
        one_shoulder_intended=True,
        added_by=system,
    )
    other_sheet = PersonSheet.objects.create(
        round=round_,
        person=county.persons["赵强"],
        village=files["330304002001"].village,
        is_incumbent=True,
        added_by=system,
    )
    finding = Finding.objects.create(
        round=round_,
        sheet=sheet,
        department=county.department,
        condition="criminal",
        hit=False,
        summary="经查无刑事处罚记录",
        found_on=date(2026, 9, 10),
        document="瓯政法〔2026〕12号",
        recorded_by=county.users["grace"],
    )
    sheet.qualification = Qualification.PENDING  # D02 has not answered yet
    sheet.save(update_fields=["qualification"])
    issue = VillageIssue.objects.create(
        file=dongling,
        kind="qingzhang",
        title="村集体资产台账不清",
        owner="王建国",
        deadline=date(2026, 10, 15),
        recorded_by=system,
    )
    talk = Talk.objects.create(
        file=dongling,
        category=TalkCategory.PARTY_MEMBER,
        person_name="王建国",
        person=county.persons["王建国"],
        held_on=date(2026, 9, 1),
        held_by=system,
    )
    help_visit = HelpVisit.objects.create(
        file=dongling,
        department=county.department,
        visited_on=date(2026, 9, 5),
        note="走访老党员",
        recorded_by=county.users["grace"],
    )
    return ElectionWorld(
        round=round_,
        petitions_department=petitions,
        file=dongling,
        other_file=files["330304002001"],
        sheet=sheet,
        other_sheet=other_sheet,
        finding=finding,
        issue=issue,
        talk=talk,
        help_visit=help_visit,
        team_member=team_member,
    )
