"""Evaluations in the small test county (kaoping.testing.build_small_county), for the evaluation
tests and the permission cases.

东岭村 (va1) has a branch of four party members: 王建国 (its secretary; carol's and clara's
village), 李秀英, 张伟 and 刘芳; 王建国 links the households of 张伟 and 刘芳 and 李秀英 is his
registered close relative. 西溪村 (oscar's) has one member, 赵强. The scheme `sanping`
(schemes/sanping.yaml) is loaded for the county, and the plan PLAN_YAML with an open round of
each campaign for the current month, quarter and half-year; the panel round's judges are bob
(its chair) and carol. Rows besides the scheme are written directly, not through the services,
so that every test starts from the same world.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import PartyMember, Subject
from kaoping.people.services import subjects_sync
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.models import Scheme
from kaoping.schemes.services import scheme_load

from .models import Meeting, Plan, PlanVersion, RaterCode, Round
from .pools import campaign_subjects, code_raters
from .spec import PlanSpec

PLAN_YAML = """\
code: test-sanping
name: 瓯海区党员“三评”
scheme: sanping
campaigns:
  - code: branch
    name: 支部考评
    raters: branch_committee
    cadence: month
    item: PY01
    form:
      - {code: role, name: 作用发挥, scale: {好: 5, 较好: 4, 一般: 3, 差: 1}}
      - {code: duty, name: 履行义务, scale: {好: 5, 较好: 4, 一般: 3, 差: 1}}
  - code: masses
    name: 群众测评
    raters: masses_linked
    cadence: quarter
    item: PY02
    form:
      - {code: service, name: 联系服务, scale: {满意: 5, 基本满意: 3, 不满意: 1}}
  - code: mutual
    name: 党员互评
    raters: branch_members
    cadence: half_year
    item: PY03
    aggregate: trimmed_mean
    min_ballots: 3
    form:
      - {code: overall, name: 综合评价, max: 5}
  - code: panel
    name: 集中评比
    raters: panel
    cadence: month
    item: PY01
    aggregate: trimmed_mean
    min_ballots: 3
    form:
      - {code: show, name: 现场展示, max: 100}
"""

SCHEME_FILE = Path(settings.BASE_DIR) / "schemes" / "sanping.yaml"


@dataclass
class EvaluationWorld:
    scheme: Scheme
    plan: Plan
    branch: Round  # branch_committee, this month: carol and clara rate 东岭村's members
    masses: Round  # masses_linked, this quarter: the codes of 张伟's and 刘芳's households
    mutual: Round  # branch_members, this half-year: a code per member
    panel: Round  # panel, this month: judges bob (chair) and carol
    member: PartyMember  # 王建国
    subject: Subject  # 王建国's party-member subject
    other_subject: Subject  # 赵强's (西溪村, oscar's village)
    meeting: Meeting  # an open 主题党日 of 东岭村党支部


def evaluation_world(county) -> EvaluationWorld:
    system = system_actor()
    va1, vb1 = county.region("330304001001"), county.region("330304002001")
    branch = "东岭村党支部"
    wang = PartyMember.objects.get(person=county.persons["王建国"])
    for name in ("李秀英", "张伟", "刘芳"):
        PartyMember.objects.create(
            person=county.persons[name], region=va1, branch=branch, member_class="C"
        )
    PartyMember.objects.create(
        person=county.persons["赵强"], region=vb1, branch="西溪村党支部", member_class="A"
    )
    wang.linked_households.set([county.persons["张伟"].household, county.persons["刘芳"].household])
    wang.person.relatives.add(county.persons["李秀英"])
    subjects_sync(kind="party_member")
    version, _created = scheme_load(
        text=SCHEME_FILE.read_text(encoding="utf-8"),
        filename="sanping.yaml",
        region=county.region("330304"),
        acting_user=system,
    )
    scheme = version.scheme
    spec = PlanSpec.model_validate(yaml.safe_load(PLAN_YAML))
    data = spec.model_dump(mode="json")
    plan = Plan.objects.create(
        region=county.region("330304"),
        scheme=scheme,
        code=spec.code,
        name=spec.name,
        spec=data,
        loaded_by=system,
    )
    PlanVersion.objects.create(
        plan=plan, number=1, filename="test.yaml", source=PLAN_YAML, spec=data, loaded_by=system
    )
    today = timezone.localdate()
    rounds = {}
    for campaign in spec.campaigns:
        label = label_for(str(campaign.cadence), today)
        start, end = period_dates(str(campaign.cadence), label)
        round_ = Round.objects.create(
            plan=plan,
            campaign=campaign.code,
            name=campaign.name,
            cadence=str(campaign.cadence),
            period_label=label,
            opens_on=today,
            closes_on=max(end, today),
            opened_by=system,
        )
        round_.subjects.set(campaign_subjects(plan, campaign))
        RaterCode.objects.bulk_create(
            RaterCode(
                round=round_,
                code=f"T{round_.pk:03d}{n:05d}",
                village_id=village,
                household_id=household,
                person_id=person,
            )
            for n, (village, household, person) in enumerate(code_raters(round_), start=1)
        )
        rounds[campaign.code] = round_
    rounds["panel"].judges.set([county.users["bob"], county.users["carol"]])
    rounds["panel"].chair = county.users["bob"]
    rounds["panel"].save(update_fields=["chair"])
    meeting = Meeting.objects.create(
        village=va1,
        branch=branch,
        scheme=scheme,
        item_code="HD01",
        title="十二月主题党日",
        held_on=today,
        code="MTEST0001",
        opened_by=county.users["carol"],
    )
    return EvaluationWorld(
        scheme=scheme,
        plan=plan,
        branch=rounds["branch"],
        masses=rounds["masses"],
        mutual=rounds["mutual"],
        panel=rounds["panel"],
        member=wang,
        subject=Subject.objects.get(kind="party_member", person=wang.person),
        other_subject=Subject.objects.get(kind="party_member", person=county.persons["赵强"]),
        meeting=meeting,
    )


# 群众测评 scored by bands instead of × 20 (docs/evaluations.md §8): the masses' result becomes the
# metric `masses_rating` of the quarter, and 4.00 falls in the 90-point band.
BANDED_MASSES_ITEM = """\
      - code: PY02
        name: 群众测评
        rule: metric
        metric: masses_rating
        bands:
          - {min: 4.5, min_inclusive: true, points: 100}
          - {min: 4, min_inclusive: true, max: 4.5, max_inclusive: false, points: 90}
          - {min: 3, min_inclusive: true, max: 4, max_inclusive: false, points: 75}
          - {max: 3, max_inclusive: false, points: 60}
"""


def banded_masses(county) -> Scheme:
    """Load a second version of sanping whose PY02 is the banded metric item above (the world's
    plan and its masses round stay as they are: the plan names PY02 either way)."""
    text = SCHEME_FILE.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    start = text.index("      - code: PY02")
    end = text.index("      - code: PY03")
    version, _created = scheme_load(
        text=text[:start] + BANDED_MASSES_ITEM + text[end:],
        filename="sanping.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme
