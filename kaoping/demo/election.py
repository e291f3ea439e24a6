"""`build_election`: the county's village-election round in mid-course (M8, 村社换届).

The round is opened from the shipped example `elections/ouhai-2026.yaml` through `round_open`,
as the county would: a file for each of the 190 村社 and a sheet for each incumbent cadre. Then
the round is filled in as it would stand today (the file's stages have today between 资格联审 and
选举日), following the Ouhai report (seeds/001):

- stages: most 村社 reached every stage due by today before its deadline, some late, a few are
  one or two stages behind and some are already a stage ahead, so the board shows all colours;
- 17 key 村社 (重点村社) with the six-person team of the round's `team_roles`, the help plan of the
  department paired with them (部门联片帮村) and its visits, the first before 30 April;
- talks (谈心谈话) with party members, villager representatives and key persons by name, most
  村社 meeting the rule (all members, ≥ 60 % of representatives, every key person), some not;
  in the `township` login's township two 村社 are set so its secretary can watch one change
  colour: one red only because of its talks (below the amber threshold, every other indicator
  green), one amber only because of them (`Showcase`; the step's output names both);
- the 六清 lists, petitions and finance flags: most cleared, some open, a few past deadline;
- prospective candidates (adults of the 村社) added to the incumbents' sheets, about 2,000 sheets
  in all; intended candidates; 一肩挑 intended in the 150 村社 whose secretary already is one and
  in most of the other 40 (the report: 150 settled, 40 with an intended person);
- every department of the negative list answers its conditions for every sheet, almost all
  否; six sheets are 不宜 (the report's six cadres left off the list of intended candidates) and
  a few dozen still wait for an answer (待核); `qualification_refresh` then sets every result;
- the weekly reports of the two weeks before this one for the `township` login's township and
  the `dept` login's department (paired with a key village), in their inboxes; the periodic job
  makes every township's and department's from the next Monday on. Skipped by the quick build
  (`--without-scores`): a report takes seconds to render.

The departments of the negative list are the county's of the codes the file names (the schemes'
discipline, political_legal, public_security, petition). The `police` login is a scorer of the
public security bureau, to try the findings import.

Rows are bulk INSERTs, not service calls, except the round itself, the qualification check and
the reports. Recorders are the system actor, or the demo login whose work it would be (the
township login in its township, the department logins for their department).
"""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.core.bulk import rows_insert
from kaoping.election.findings import qualification_refresh
from kaoping.election.models import (
    ElectionRound,
    Finding,
    FindingSource,
    HelpVisit,
    IssueStatus,
    PersonSheet,
    StageReached,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from kaoping.election.rounds import round_open
from kaoping.election.spec import FINANCE, PETITION, RoundSpec, Stage
from kaoping.people.models import Cadre, CadrePost, Household, MemberClass, PartyMember, Person
from kaoping.regions.models import Department, Level, Region
from kaoping.reports import election as weekly
from kaoping.reports.models import ReportStatus

from .names import DEPARTMENTS, GIVEN_CHARS, PHONE_PREFIXES, SURNAME_WEIGHTS
from .people import REFERENCE_DATE, age_on, years_after

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

ROUND_FILE = Path(settings.BASE_DIR) / "elections" / "ouhai-2026.yaml"

KEY_VILLAGES = 17  # 重点村社 (seeds/001)
SHEETS_WANTED = 2_000  # incumbents and prospective candidates together (一人一表)
UNFIT_SHEETS = 6  # 6 村社干部 left off the list of intended candidates (seeds/001)
PENDING_SHEETS = 30  # sheets some department has not answered yet (待核)
POLICE_LOGIN = "police"
# Of the 村社 whose secretary is not 一肩挑 yet, the share that intend one this round.
ONE_SHOULDER_LATER = 0.8
# The share of the talks the rule requires that the township login's two showcase 村社 have
# held: red below the round's amber threshold (60 %), amber between it and green (100 %).
SHOWCASE_TALKS = {"red": 0.3, "amber": 0.8}
SHOWCASE_MIN_MEMBERS = 5  # party members (all to be talked with): the shares come out as meant

POLICE_NAME = "区公安分局"
# How each department heads the letter its findings came with (〔2026〕N号).
LETTER_PREFIX = {
    "区纪委监委": "瓯纪",
    "区委政法委": "瓯政法",
    "区公安分局": "瓯公",
    "区信访局": "瓯信",
}

# Issue titles of each list, by the campaign's name (the six 清 of the report), petitions and
# finance flags; a campaign with another name gets titles made from its name.
ISSUE_TITLES = {
    "清底": ("班子运行情况摸排不到位", "流动党员底数未核清", "村民代表名单未更新"),
    "清风": ("村干部作风问题群众反映较多", "违规操办婚丧喜庆事宜", "村务公开不及时"),
    "清障": ("涉黑涉恶线索待核查", "宗族势力干预村务苗头", "历史遗留矛盾纠纷未化解"),
    "清账": ("村集体资产台账不清", "工程项目结算未审计", "村级往来款项长期挂账"),
    "清仓": ("信访积案未化解", "重复信访件待办结", "征迁补偿诉求未答复"),
    "清心": ("落选人员思想工作未开展", "换届纪律宣传未全覆盖", "老党员对班子意见较大"),
    PETITION: ("反映土地征收补偿不公", "反映宅基地审批不公开", "反映村干部优亲厚友"),
    FINANCE: ("大额支出未经村民代表会议", "报销凭证不全", "集体资产租赁合同到期未续"),
}
TALK_NOTES = ("", "", "征求对班子的意见", "阐明组织意图", "了解对换届的想法", "宣讲换届纪律")
VISIT_NOTES = (
    "走访老党员，听取对换届的意见",
    "召开村民代表座谈会",
    "协助梳理清账问题清单",
    "与村两委班子谈心谈话",
    "督导换届准备工作进度",
)


@dataclass
class VillageData:
    """What the step reads of one 村社, all in a few queries for the county."""

    region: Region
    households: int
    adults: list[tuple[int, str, date]]  # (person pk, name, birth date), in pk order
    party: list[tuple[int, str, str]]  # (person pk, name, member class)
    cadres: dict[int, str]  # person pk → post


@dataclass
class Showcase:
    """The two 村社 of the township login's township whose colour comes from their talks alone:
    every stage due reached on time, nothing past deadline, 一肩挑 intended, every sheet
    answered; `red` has held SHOWCASE_TALKS["red"] of the talks required, `amber` SHOWCASE_TALKS
    ["amber"]. So a township secretary recording talks sees `red` turn amber at the threshold."""

    red: VillageFile | None = None
    amber: VillageFile | None = None
    coverage: dict[int, tuple[int, int]] | None = None  # village pk → (talks counted, required)

    def colour(self, file: VillageFile) -> str | None:
        if self.red is not None and file.pk == self.red.pk:
            return "red"
        if self.amber is not None and file.pk == self.amber.pk:
            return "amber"
        return None

    @property
    def village_ids(self) -> set[int]:
        return {f.village_id for f in (self.red, self.amber) if f is not None}


def build_election(build: "Build") -> None:
    from .generator import COUNTY_CODE, DEMO_PASSWORD, one_shoulder_codes

    county = Region.objects.get(code=COUNTY_CODE)
    text = ROUND_FILE.read_text("utf-8")
    spec = RoundSpec.model_validate(yaml.safe_load(text))
    if ElectionRound.objects.filter(county=county, code=spec.code).exists():
        return
    system = system_actor()
    today = timezone.localdate()
    with transaction.atomic():
        departments = _condition_departments(county, spec)
        _police_login(departments, DEMO_PASSWORD)
        round_ = round_open(county=county, text=text, filename=ROUND_FILE.name, acting_user=system)
        spec = RoundSpec.model_validate(round_.spec)
        files = {
            file.village_id: file
            for file in VillageFile.objects.filter(round=round_).select_related("village")
        }
        villages = _village_data(COUNTY_CODE, [file.village for file in files.values()])
        users = _recorders(system)
        showcase = _showcase(files, villages, users)
        _stages(build, spec, files, villages, today, users, showcase)
        key = _key_villages(build, spec, files, today, users)
        _issues(build, spec, files, villages, today, users, showcase)
        _talks(build, spec, files, villages, today, users, showcase)
        one_shoulder = one_shoulder_codes(build, [v.region.code for v in villages.values()])
        sheets, unfit = _sheets(build, round_, files, villages, one_shoulder, users, showcase)
        findings = _findings(build, round_, spec, departments, sheets, unfit, users, showcase)
        VillageFile.objects.bulk_update(
            list(files.values()),
            [
                "stage",
                "is_key",
                "paired_department",
                "help_plan",
                "party_members_total",
                "representatives_total",
                "key_persons_total",
                "one_shoulder_intended",
            ],
            batch_size=build.batch_size,
        )
        qualification_refresh(PersonSheet.objects.filter(round=round_))
    build.out(
        f"  election: {len(files)} files, {key} key, {len(sheets):,} sheets, {findings:,} findings"
    )
    if showcase.red is not None:
        build.out("  election: " + _showcase_line(showcase, spec))
    if build.scores:  # the quick build leaves the reports to the periodic job
        reports = _weekly_reports(build, round_, today, system)
        build.out(f"  election weekly reports: {reports}")


# --- departments and logins ------------------------------------------------------------------


def _condition_departments(county: Region, spec: RoundSpec) -> dict[str, Department]:
    """code → department of every department the round's conditions name (the demo's four of
    the report, 纪检, 政法, 公安 and 信访, carry the schemes' codes: discipline, political_legal,
    public_security, petition)."""
    found = {d.code: d for d in Department.objects.filter(county=county)}
    missing = sorted({c.department for c in spec.conditions} - set(found))
    if missing:
        raise ValueError(f"{ROUND_FILE.name}: the demo county has no department {missing}")
    return {c.department: found[c.department] for c in spec.conditions}


def _police_login(departments: dict[str, Department], password: str):
    """`police`: a scorer of the public security bureau that answers conditions of the round, to
    try the findings import with."""
    department = next((d for d in departments.values() if d.name == POLICE_NAME), None)
    User = get_user_model()
    if department is None or User.objects.filter(username=POLICE_LOGIN).exists():
        return None
    user = User.objects.create_user(username=POLICE_LOGIN)
    user.password = make_password(password)
    user.save(update_fields=["password"])
    RoleAssignment.objects.create(user=user, role=Role.DEPARTMENT_SCORER, department=department)
    return user


@dataclass
class Recorders:
    system: object
    township: tuple[object, str] | None  # (user, township code)
    departments: dict[int, object]  # department pk → its demo login


def _recorders(system) -> Recorders:
    township, departments = None, {}
    for assignment in RoleAssignment.objects.filter(
        user__username__in=["township", "dept", POLICE_LOGIN]
    ).select_related("user", "region"):
        if assignment.role == Role.TOWNSHIP_STAFF and assignment.region is not None:
            township = (assignment.user, assignment.region.code)
        elif assignment.department_id:
            departments[assignment.department_id] = assignment.user
    return Recorders(system=system, township=township, departments=departments)


def _showcase(files: dict[int, VillageFile], villages, users: Recorders) -> Showcase:
    """The township login's 村社 in code order with enough party members, past the first (the
    `secretary` login's, left as the draw makes it): the next is red, the one after amber."""
    if users.township is None:
        return Showcase()
    home = users.township[1]
    mine = [
        file
        for file in _ordered(files)
        if file.village.code.startswith(home)
        and len(villages[file.village_id].party) >= SHOWCASE_MIN_MEMBERS
    ]
    if len(mine) > 2:
        mine = mine[1:]
    return Showcase(
        red=mine[0] if mine else None, amber=mine[1] if len(mine) > 1 else None, coverage={}
    )


def _showcase_line(showcase: Showcase, spec: RoundSpec) -> str:
    """e.g. "景山街道: 翠微社区 (330304001002) red by its talks alone, 1 of 12 required held,
    7 more turn it amber (60%); 西山社区 (330304001003) amber by its talks, 11 of 13"."""
    red = showcase.red
    threshold = spec.threshold("talk_coverage").amber
    done, required = showcase.coverage.get(red.village_id, (0, 0))
    more = max(0, math.ceil(required * threshold / 100) - done)
    line = (
        f"{red.village.parent.name}: {red.village.name} ({red.village.code}) red by its talks"
        f" alone, {done} of {required} required held, {more} more turn it amber ({threshold}%)"
    )
    if showcase.amber is not None:
        amber = showcase.amber
        done, required = showcase.coverage.get(amber.village_id, (0, 0))
        line += (
            f"; {amber.village.name} ({amber.village.code}) amber by its talks,"
            f" {done} of {required}"
        )
    return line


def _township_user(users: Recorders, village: Region):
    if users.township and village.code.startswith(users.township[1]):
        return users.township[0]
    return users.system


# --- what the county holds ---------------------------------------------------------------------


def _village_data(county_code: str, regions: list[Region]) -> dict[int, VillageData]:
    adult_before = years_after(REFERENCE_DATE, -18)
    data = {
        region.pk: VillageData(region=region, households=0, adults=[], party=[], cadres={})
        for region in regions
    }
    for village_id, count in (
        Household.objects.filter(region__code__startswith=county_code, region__level=Level.GRID)
        .values("region__parent_id")
        .annotate(n=Count("pk"))
        .values_list("region__parent_id", "n")
        .order_by()
    ):
        if village_id in data:
            data[village_id].households = count
    for pk, name, birth, village_id in (
        Person.objects.filter(
            region__code__startswith=county_code,
            region__level=Level.GRID,
            birth_date__lte=adult_before,
        )
        .order_by("pk")
        .values_list("pk", "name", "birth_date", "region__parent_id")
    ):
        if village_id in data:
            data[village_id].adults.append((pk, name, birth))
    for person_id, name, member_class, village_id in (
        PartyMember.objects.filter(region_id__in=list(data))
        .order_by("pk")
        .values_list("person_id", "person__name", "member_class", "region_id")
    ):
        data[village_id].party.append((person_id, name, member_class))
    for person_id, post, village_id in (
        Cadre.objects.filter(region_id__in=list(data))
        .order_by("pk")
        .values_list("person_id", "post", "region_id")
    ):
        data[village_id].cadres.setdefault(person_id, post)
    return data


def _ordered(files: dict[int, VillageFile]) -> list[VillageFile]:
    return sorted(files.values(), key=lambda file: file.village.code)


# --- stages ------------------------------------------------------------------------------------


def _stages(build, spec, files, villages, today, users, showcase: Showcase) -> None:
    """Stages reached: on time mostly, late for some, one or two behind for a few, a stage ahead
    for about a third (never the election day itself before its day); the showcase 村社 every
    stage due, on time."""
    stages = list(spec.stages)
    due = sum(stage.due <= today for stage in stages)
    rows = []
    for file in _ordered(files):
        rng = build.rng("election-stages", file.village.code)
        draw = rng.random()
        reached, late_share = due, 0.0
        if showcase.colour(file):
            pass
        elif draw < 0.07:
            reached = max(0, due - rng.choice((1, 1, 2)))
        elif draw < 0.25:
            late_share = 0.5
        elif draw < 0.55 and due < len(stages) and not stages[due].election_day:
            reached = due + 1
        previous = stages[0].due - timedelta(days=45)
        for index, stage in enumerate(stages[:reached]):
            on = _reached_on(rng, stage, previous, today, late=rng.random() < late_share)
            if index == due - 1 and late_share and on <= stage.due:
                # a village of the late kind is late at least at the stage now due
                on = min(today, stage.due + timedelta(days=rng.randint(1, 9)))
            on = max(on, previous)
            previous = on
            rows.append(
                StageReached(
                    file=file,
                    stage=stage.code,
                    reached_on=on,
                    note="" if on <= stage.due else "材料补正后完成",
                    recorded_by=_township_user(users, file.village),
                )
            )
        file.stage = stages[reached - 1].code if reached else ""
    StageReached.objects.bulk_create(rows, batch_size=build.batch_size)


def _reached_on(rng: random.Random, stage: Stage, previous: date, today: date, late: bool) -> date:
    if stage.due > today:  # a stage ahead: reached in the last days
        return min(today, max(previous, today - timedelta(days=rng.randint(0, 10))))
    if late:
        return min(today, stage.due + timedelta(days=rng.randint(1, 12)))
    return max(previous, stage.due - timedelta(days=rng.randint(2, 20)))


# --- key villages: teams, help plans, visits -------------------------------------------------


def _key_villages(build, spec, files, today, users) -> int:
    """17 key 村社, one of them paired with the `dept` login's department, each with its team,
    its paired department's help plan and a few visits."""
    # A village's paired department: the first (by pk) of those covering it (部门联片帮村).
    links = Department.villages.through.objects.filter(region_id__in=list(files))
    departments = Department.objects.in_bulk(
        {d for _v, d in links.values_list("region_id", "department_id")}
    )
    paired: dict[int, Department] = {}
    for village_id, department_id in links.order_by("department_id").values_list(
        "region_id", "department_id"
    ):
        paired.setdefault(village_id, departments[department_id])
    ordered = [file for file in _ordered(files) if file.village_id in paired]
    rng = build.rng("election-key")
    dept_villages = set(
        RoleAssignment.objects.filter(user__username="dept", department__isnull=False).values_list(
            "department__villages", flat=True
        )
    )
    first = [file for file in ordered if file.village_id in dept_villages][:1]
    rest = [file for file in ordered if file not in first]
    chosen = first + rng.sample(rest, min(KEY_VILLAGES - len(first), len(rest)))
    team, visits = [], []
    townships = dict(Region.objects.filter(level=Level.TOWNSHIP).values_list("pk", "name"))
    for file in sorted(chosen, key=lambda f: f.village.code):
        rng = build.rng("election-key", file.village.code)
        department = paired[file.village_id]
        file.is_key = True
        file.paired_department = department
        township = townships.get(file.village.parent_id, "")
        file.help_plan = _help_plan(rng, department, file.village, township)
        for role in spec.team_roles:
            team.append(
                TeamMember(
                    file=file,
                    role=role.code,
                    name=_official_name(rng),
                    unit=_team_unit(rng, role.name, department, file.village, township),
                    phone=rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}",
                )
            )
        recorder = users.departments.get(department.pk, users.system)
        # Every department had visited its village by 30 April (seeds/001), then came again.
        year = spec.stages[0].due.year
        days = [_random_day(rng, date(year, 4, 1), min(today, date(year, 4, 29)))]
        days += [_random_day(rng, date(year, 5, 1), today) for _ in range(rng.randint(2, 4))]
        visits += [
            HelpVisit(
                file=file,
                department=department,
                visited_on=day,
                note=rng.choice(VISIT_NOTES),
                recorded_by=recorder,
            )
            for day in sorted(days)
        ]
    TeamMember.objects.bulk_create(team, batch_size=build.batch_size)
    HelpVisit.objects.bulk_create(visits, batch_size=build.batch_size)
    return len(chosen)


def _help_plan(rng, department: Department, village: Region, township: str) -> str:
    visits = rng.choice(("每月", "每半月"))
    return (
        f"{department.name}结对帮扶{village.name}换届工作方案\n"
        f"一、{visits}至少走访一次，听取党员群众对村社班子和换届的意见；\n"
        f"二、协助{township}梳理“六清”问题清单，逐项明确责任人和完成时限；\n"
        "三、配合做好人选酝酿、资格联审和谈心谈话，宣讲换届纪律；\n"
        "四、选举日派员驻村，做好秩序维护和应急处置。"
    )


def _team_unit(rng, role: str, department: Department, village: Region, township: str) -> str:
    if "区领导" in role or "区级" in role:
        return rng.choice(("区委", "区人大常委会", "区政府", "区政协"))
    if "联系" in role:
        return f"{township}党（工）委"
    if "第一书记" in role:
        return rng.choice(DEPARTMENTS)
    if "部门" in role:
        return department.name
    if "乡贤" in role:
        return f"{village.name}乡贤参事会"
    if "民警" in role or "警" in role:
        return f"瓯海公安分局{township[:2]}派出所"
    return ""


def _official_name(rng: random.Random) -> str:
    surnames = [surname for surname, _weight in SURNAME_WEIGHTS]
    weights = [weight for _surname, weight in SURNAME_WEIGHTS]
    surname = rng.choices(surnames, weights=weights, k=1)[0]
    pool = GIVEN_CHARS[("mid", "M" if rng.random() < 0.75 else "F")]
    return surname + "".join(rng.sample(pool, rng.choice((1, 2, 2))))


def _random_day(rng: random.Random, first: date, last: date) -> date:
    if last < first:
        return last
    return first + timedelta(days=rng.randint(0, (last - first).days))


# --- the lists of a village's file -----------------------------------------------------------


def _issues(build, spec, files, villages, today, users, showcase: Showcase) -> None:
    """Issues of the 清 lists, petitions and finance flags: most villages have cleared what they
    found, some have one to three past deadline, a few more than three (the showcase 村社 none)."""
    lists = [(c.code, c.name) for c in spec.campaigns] + [(PETITION, PETITION), (FINANCE, FINANCE)]
    start = min(stage.due for stage in spec.stages)
    rows = []
    for file in _ordered(files):
        rng = build.rng("election-issues", file.village.code)
        village = villages[file.village_id]
        owners = [name for pk, name, _b in village.adults if pk in village.cadres] or ["镇街综治办"]
        draw = rng.random()
        overdue = 0 if draw < 0.72 else rng.randint(1, 3) if draw < 0.93 else rng.randint(4, 5)
        if showcase.colour(file):
            overdue = 0
        cleared, upcoming = rng.randint(1, 5), rng.randint(0, 2)
        used: set[str] = set()
        for state, count in (("overdue", overdue), ("done", cleared), ("open", upcoming)):
            for _ in range(count):
                kind, name = rng.choice(lists)
                titles = ISSUE_TITLES.get(name) or (f"{name}工作排查问题", f"{name}整改事项")
                title = rng.choice(titles)
                if title in used:
                    continue
                used.add(title)
                if state == "open":
                    deadline = today + timedelta(days=rng.randint(3, 30))
                else:
                    deadline = _random_day(rng, start, today - timedelta(days=1))
                done_on = None
                if state == "done":
                    done_on = min(today, deadline - timedelta(days=rng.randint(0, 25)))
                    done_on = max(done_on, start)
                rows.append(
                    VillageIssue(
                        file=file,
                        kind=kind,
                        title=title,
                        owner=rng.choice(owners),
                        deadline=deadline,
                        status=IssueStatus.DONE if done_on else IssueStatus.OPEN,
                        done_on=done_on,
                        recorded_by=_township_user(users, file.village),
                    )
                )
    VillageIssue.objects.bulk_create(rows, batch_size=build.batch_size)


def _talks(build, spec, files, villages, today, users, showcase: Showcase) -> None:
    """The rule's denominators and the talks held: most villages have met the rule, some are part
    of the way (amber), a few far behind (red); the showcase 村社 SHOWCASE_TALKS of what the rule
    requires (rounded down), their coverage noted in `showcase.coverage`."""
    rule = spec.talks
    start = today - timedelta(days=90)
    rows = []
    for file in _ordered(files):
        rng = build.rng("election-talks", file.village.code)
        village = villages[file.village_id]
        party_ids = {pk for pk, _n, _c in village.party}
        others = [(pk, name) for pk, name, _b in village.adults if pk not in party_ids]
        rng.shuffle(others)
        wanted = max(5, round(village.households / rng.uniform(5, 8)))
        representatives = others[: min(wanted, max(0, len(others) - 2))]
        key_persons = others[len(representatives) : len(representatives) + rng.randint(2, 5)]
        file.party_members_total = len(village.party)
        file.representatives_total = len(representatives)
        file.key_persons_total = len(key_persons)
        draw = rng.random()
        progress = 1.0 if draw < 0.78 else rng.uniform(0.65, 0.95) if draw < 0.94 else 0.4
        shown = showcase.colour(file)
        done = required = 0
        groups = (
            (
                TalkCategory.PARTY_MEMBER,
                [(pk, n) for pk, n, _c in village.party],
                rule.party_members,
            ),
            (TalkCategory.REPRESENTATIVE, representatives, rule.representatives),
            (TalkCategory.KEY_PERSON, key_persons, rule.key_persons),
        )
        recorder = _township_user(users, file.village)
        requireds = [math.ceil(len(persons) * float(share) / 100) for _c, persons, share in groups]
        shown_counts = _showcase_talks(shown, requireds) if shown else []
        for index, (category, persons, share) in enumerate(groups):
            needed = required_here = requireds[index]
            if shown:
                # distinct names: a talk per name is counted once
                persons = list({name: (pk, name) for pk, name in reversed(persons)}.values())
                count = min(len(persons), shown_counts[index])
            else:
                if progress == 1.0 and share < 100:
                    needed = min(len(persons), needed + rng.randint(0, 2))  # some go beyond
                count = min(len(persons), math.ceil(needed * progress))
            names: set[str] = set()
            for pk, name in rng.sample(persons, count):
                if name in names:
                    continue  # one talk per name is counted once
                names.add(name)
                rows.append(
                    Talk(
                        file=file,
                        category=category,
                        person_name=name,
                        person_id=pk,
                        held_on=_random_day(rng, start, today),
                        note=rng.choice(TALK_NOTES),
                        held_by=recorder,
                    )
                )
            done += min(len(names), required_here)
            required += required_here
        if shown:
            showcase.coverage[file.village_id] = (done, required)
    Talk.objects.bulk_create(rows, batch_size=build.batch_size)


def _showcase_talks(colour: str, requireds: list[int]) -> list[int]:
    """How many of each group a showcase 村社 has talked with: for red, SHOWCASE_TALKS["red"] of
    each group's required number, rounded down; for amber, all required but a shortfall of
    1 − SHOWCASE_TALKS["amber"] of the whole (at least one talk), taken from the largest groups,
    so its coverage is at least that share and below 100 %."""
    share = SHOWCASE_TALKS[colour]
    if colour == "red":
        return [math.floor(n * share) for n in requireds]
    counts = list(requireds)
    short = max(1, math.floor(sum(requireds) * (1 - share)))
    for index in sorted(range(len(counts)), key=lambda i: -counts[i]):
        take = min(short, counts[index])
        counts[index] -= take
        short -= take
    return counts


# --- sheets and findings -------------------------------------------------------------------


def _sheets(build, round_, files, villages, one_shoulder, users, showcase: Showcase):
    """Prospective candidates next to the incumbents' sheets (about SHEETS_WANTED in all), the
    intended candidates of each 村社, and 一肩挑 intention where the cadre step settled it."""
    sheets = list(PersonSheet.objects.filter(round=round_).order_by("village__code", "pk"))
    by_village: dict[int, list[PersonSheet]] = {}
    for sheet in sheets:
        by_village.setdefault(sheet.village_id, []).append(sheet)
    rng = build.rng("election-sheets")
    incumbents = [sheet for sheet in sheets if sheet.is_incumbent]
    unfit = _unfit_choice(rng, incumbents, users)
    per_village = max(2, (SHEETS_WANTED - len(sheets)) / max(1, len(files)))
    new = []
    for file in _ordered(files):
        rng = build.rng("election-sheets", file.village.code)
        village = villages[file.village_id]
        have = {sheet.person_id for sheet in by_village.get(file.village_id, [])}
        members = {pk: member_class for pk, _n, member_class in village.party}
        pool = [
            pk
            for pk, _name, birth in village.adults
            if pk not in have and 25 <= age_on(birth) <= 58 and members.get(pk) != MemberClass.D
        ]
        # Candidates are mostly party members of the branch: they are put first.
        rng.shuffle(pool)
        pool.sort(key=lambda pk: pk not in members)
        count = min(len(pool), stochastic(per_village, rng))
        recorder = _township_user(users, file.village)
        for pk in pool[:count]:
            sheet = PersonSheet(
                round=round_,
                person_id=pk,
                village_id=file.village_id,
                is_candidate=True,
                added_by=recorder,
            )
            new.append(sheet)
            by_village.setdefault(file.village_id, []).append(sheet)
        settled = one_shoulder | {file.village.code} if showcase.colour(file) else one_shoulder
        _intend(rng, file, village, by_village.get(file.village_id, []), unfit, settled)
    PersonSheet.objects.bulk_create(new, batch_size=build.batch_size)
    # The incumbents' sheets changed in a handful of ways: one UPDATE for each (bulk_update's
    # CASE per row took seconds).
    changes: dict[tuple, list[int]] = {}
    for sheet in sheets:
        values = (sheet.is_candidate, sheet.intended, sheet.intended_post)
        changes.setdefault(values + (sheet.one_shoulder_intended,), []).append(sheet.pk)
    for (candidate, intended, post, shoulder), pks in changes.items():
        PersonSheet.objects.filter(pk__in=pks).update(
            is_candidate=candidate,
            intended=intended,
            intended_post=post,
            one_shoulder_intended=shoulder,
        )
    return sheets + new, unfit


def stochastic(value: float, rng: random.Random) -> int:
    whole = int(value)
    return whole + (rng.random() < value - whole)


def _unfit_choice(rng, incumbents: list[PersonSheet], users: Recorders) -> set[int]:
    """The six incumbents a department found a condition against, one of them in the township
    login's township so that its secretary sees a 不宜 case."""
    if not incumbents:
        return set()
    home = users.township[1] if users.township else ""
    codes = dict(
        Region.objects.filter(pk__in={s.village_id for s in incumbents}).values_list("pk", "code")
    )
    mine = [s for s in incumbents if home and codes[s.village_id].startswith(home)]
    first = rng.sample(mine, 1) if mine else []
    rest = [s for s in incumbents if s not in first]
    return {s.pk for s in first + rng.sample(rest, min(UNFIT_SHEETS - len(first), len(rest)))}


def _intend(rng, file, village: VillageData, sheets, unfit: set[int], one_shoulder) -> None:
    """The organisation's intended candidates: the secretary again unless found unfit (then a
    candidate of the branch), a chair where the posts stay apart, one to three members."""
    able = [sheet for sheet in sheets if sheet.pk not in unfit]
    secretary = next(
        (s for s in able if village.cadres.get(s.person_id) == CadrePost.SECRETARY), None
    )
    members = {pk for pk, _n, _c in village.party}
    if secretary is None:
        secretary = next((s for s in able if s.person_id in members), able[0] if able else None)
    if secretary is None:
        return
    # 150 村社 settled on a 一肩挑 candidate (their secretary already is one), most of the
    # other 40 have one in mind (seeds/001).
    shoulder = village.region.code in one_shoulder or rng.random() < ONE_SHOULDER_LATER
    file.one_shoulder_intended = shoulder
    chosen = [(secretary, "书记、主任" if shoulder else "书记")]
    rest = [s for s in able if s is not secretary]
    if not shoulder and rest:
        chair = next(
            (s for s in rest if village.cadres.get(s.person_id) == CadrePost.CHAIR), rest[0]
        )
        chosen.append((chair, "主任"))
        rest.remove(chair)
    chosen += [(s, "委员") for s in rng.sample(rest, min(len(rest), rng.randint(1, 3)))]
    for sheet, post in chosen:
        sheet.intended = True
        sheet.is_candidate = True
        sheet.intended_post = post
        sheet.one_shoulder_intended = shoulder and sheet is secretary


def _findings(build, round_, spec, departments, sheets, unfit_pks, users, showcase) -> int:
    """Each department's answer to its conditions for every sheet, as one reply letter a
    department: 否 almost always; a condition found against each unfit sheet; a few dozen sheets
    with a condition not yet answered (none of the showcase 村社's)."""
    rng = build.rng("election-findings")
    conditions = list(spec.conditions)
    if not conditions:
        return 0
    letters, days = {}, {}
    for number, (code, department) in enumerate(sorted(departments.items()), 1):
        prefix = LETTER_PREFIX.get(department.name, "瓯" + department.name[1:3])
        letters[code] = f"{prefix}〔2026〕{rng.randint(20, 180) + number}号"
        days[code] = date(2026, 11, 1) + timedelta(days=rng.randint(0, 25))
    fit = [sheet for sheet in sheets if sheet.pk not in unfit_pks]
    open_to_wait = [sheet for sheet in fit if sheet.village_id not in showcase.village_ids]
    pending = {s.pk for s in rng.sample(open_to_wait, min(PENDING_SHEETS, len(open_to_wait)))}
    unfit = sorted(unfit_pks)
    # Spread the hits over the conditions, the police's first so its login sees one of its own.
    order = sorted(conditions, key=lambda c: departments[c.department].name != POLICE_NAME)
    hits = {pk: order[index % len(order)].code for index, pk in enumerate(unfit)}
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for sheet in sheets:
        skipped = set()
        if sheet.pk in pending:
            skipped = {
                c.code for c in rng.sample(conditions, rng.randint(1, min(2, len(conditions))))
            }
        for condition in conditions:
            if condition.code in skipped:
                continue
            department = departments[condition.department]
            hit = hits.get(sheet.pk) == condition.code
            summary = (
                f"经查，存在“{condition.name}”情形，建议不列为人选"
                if hit
                else f"经查，无“{condition.name}”情形"
            )
            rows.append(
                (round_.pk, sheet.pk, department.pk, condition.code, hit, summary)
                + (ops.adapt_datefield_value(days[condition.department]),)
                + (letters[condition.department], FindingSource.EXCEL.value)
                + (users.departments.get(department.pk, users.system).pk, now)
            )
    # Plain rows: a bulk_create of model instances took most of the step.
    rows_insert(Finding, FINDING_COLUMNS, rows)
    return len(rows)


FINDING_COLUMNS = (
    "round",
    "sheet",
    "department",
    "condition",
    "hit",
    "summary",
    "found_on",
    "document",
    "source",
    "recorded_by",
    "recorded_at",
)


# --- weekly reports ------------------------------------------------------------------------------


def _weekly_reports(build, round_, today: date, system) -> int:
    """The reports of the two weeks before this one, as the Monday job would have made them, for
    the township of the `township` login and the department of the `dept` login, delivered to
    their inboxes. Only theirs: a report takes seconds to render (WeasyPrint), and the county's
    thirty a week would take minutes; the periodic job makes every report from next Monday on."""
    targets = []
    for assignment in RoleAssignment.objects.filter(
        user__username__in=["township", "dept"]
    ).select_related("region", "department"):
        if assignment.department_id:
            paired = VillageFile.objects.filter(
                round=round_, paired_department=assignment.department
            ).exists()
            if paired:
                targets.append((None, assignment.department))
        elif assignment.role == Role.TOWNSHIP_STAFF:
            targets.append((assignment.region, None))
    monday = today - timedelta(days=today.weekday())
    built = 0
    for weeks in (2, 1):
        reports = weekly.election_weekly_build(
            round_=round_,
            week_start=monday - timedelta(weeks=weeks),
            acting_user=system,
            only=targets,
        )
        built += sum(report.status == ReportStatus.DONE for report in reports)
    return built


build_election.manages_transactions = True
