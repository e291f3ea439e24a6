"""The configuration of an election round (换届工作方案), as a county writes it in YAML.

Read by the schemes' loader (`kaoping.schemes.loader.load_yaml_model`), so a mistake is reported
with its file line exactly as in a scheme file; `rounds.round_open` and `round_config_load` keep
every loaded file as a version. docs/election.md is the format's page; elections/ouhai-2026.yaml
is a worked example.

```yaml
code: ouhai-2026
name: 瓯海区2026年村社组织换届
stages:                       # in order; `due` is the county's deadline for every village
  - {code: survey, name: 调研摸底, due: 2026-08-31}
  - {code: election_day, name: 选举日, due: 2026-12-20, election_day: true}
conditions:                   # 资格联审负面清单: each answered by one department (its code)
  - {code: criminal, name: 受过刑事处罚, department: GA}
campaigns:                    # the 清 campaigns' issue lists of a village's file
  - {code: qingdi, name: 清底}
team_roles:                   # the team of a key village
  - {code: district_leader, name: 区领导}
talks: {party_members: 100, representatives: 60, key_persons: 100}   # per cent
thresholds:                   # the board's red/amber/green (三色管理), per cent
  talk_coverage: {green: 100, amber: 60}
  open_issues: {green: 0, amber: 3, better: lower}
```
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from django.utils.translation import gettext
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from kaoping.schemes.spec import Code, Name

Percent = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=100)]
Count = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=100_000)]

# The lists of a village's file besides the campaigns' (and so codes a campaign may not take).
PETITION, FINANCE = "petition", "finance"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Model):
    code: Code
    name: Name
    due: date
    # The stage that is the vote itself: the results (一次选举成功, 组织意图, 一肩挑) are recorded
    # once a village reaches it.
    election_day: StrictBool = False


class Condition(_Model):
    """One condition of the negative list and the department (its code) that answers it."""

    code: Code
    name: Name
    department: Code


class Named(_Model):
    code: Code
    name: Name


class TalkRule(_Model):
    """The least share (per cent) of each group a village must have talked with."""

    party_members: Percent = Decimal(100)
    representatives: Percent = Decimal(60)
    key_persons: Percent = Decimal(100)


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Threshold(_Model):
    """Green from `green`, amber from `amber`, red beyond; `better: lower` for counts of what
    should be few (open issues)."""

    green: Count
    amber: Count
    better: Better = Better.HIGHER

    @model_validator(mode="after")
    def _ordered(self):
        if self.better == Better.HIGHER and self.amber > self.green:
            raise ValueError(gettext("amber must not be above green when higher is better"))
        if self.better == Better.LOWER and self.amber < self.green:
            raise ValueError(gettext("amber must not be below green when lower is better"))
        return self


# The board's indicators (云端作战图), each a per cent of the village's (or the township's)
# villages except open_issues, a count.
INDICATORS = (
    "stage_progress",  # 换届工作进度: stages reached of those due by today
    "intent_rate",  # 组织意图实现率 (after election day)
    "first_success_rate",  # 一次选举成功率 (after election day)
    "one_shoulder_rate",  # 一肩挑比例 (achieved, or intended before election day)
    "qualification_progress",  # 资格联审进度: sheets with every condition answered
    "talk_coverage",  # 谈心谈话: the least of the three groups' shares against the rule
    "open_issues",  # open issues of the 清 lists, petitions and finance flags past deadline
)


def _default_thresholds() -> dict[str, Threshold]:
    return {
        "stage_progress": Threshold(green=Decimal(100), amber=Decimal(80)),
        "intent_rate": Threshold(green=Decimal(95), amber=Decimal(85)),
        "first_success_rate": Threshold(green=Decimal(95), amber=Decimal(85)),
        "one_shoulder_rate": Threshold(green=Decimal(80), amber=Decimal(60)),
        "qualification_progress": Threshold(green=Decimal(100), amber=Decimal(80)),
        "talk_coverage": Threshold(green=Decimal(100), amber=Decimal(60)),
        "open_issues": Threshold(green=Decimal(0), amber=Decimal(3), better=Better.LOWER),
    }


class RoundSpec(_Model):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
    name: Name
    description: str = ""
    stages: tuple[Stage, ...] = Field(min_length=1)
    conditions: tuple[Condition, ...] = ()
    campaigns: tuple[Named, ...] = ()
    team_roles: tuple[Named, ...] = ()
    talks: TalkRule = Field(default_factory=TalkRule)
    thresholds: dict[str, Threshold] = Field(default_factory=_default_thresholds)

    @model_validator(mode="after")
    def _consistent(self):
        _unique("stages", [s.code for s in self.stages])
        _unique("conditions", [c.code for c in self.conditions])
        _unique("campaigns", [c.code for c in self.campaigns] + [PETITION, FINANCE])
        _unique("team_roles", [r.code for r in self.team_roles])
        unknown = sorted(set(self.thresholds) - set(INDICATORS))
        if unknown:
            raise ValueError(
                gettext("thresholds: unknown indicator %(names)s (known: %(known)s)")
                % {"names": ", ".join(unknown), "known": ", ".join(INDICATORS)}
            )
        days = [s.due for s in self.stages]
        if days != sorted(days):
            raise ValueError(gettext("stages: the deadlines must not go back in time"))
        if sum(s.election_day for s in self.stages) > 1:
            raise ValueError(gettext("stages: only one stage can be the election day"))
        return self

    def threshold(self, indicator: str) -> Threshold:
        return self.thresholds.get(indicator) or _default_thresholds()[indicator]

    def stage_names(self) -> dict[str, str]:
        return {s.code: s.name for s in self.stages}

    def list_names(self) -> dict[str, str]:
        """The lists of a village's file: the campaigns', then petitions and finance."""
        names = {c.code: c.name for c in self.campaigns}
        names[PETITION] = gettext("petitions")
        names[FINANCE] = gettext("finance flags")
        return names


def _unique(where: str, codes: list[str]) -> None:
    seen = set()
    for code in codes:
        if code in seen:
            raise ValueError(
                gettext("%(where)s: the code %(code)s is used twice")
                % {"where": where, "code": code}
            )
        seen.add(code)


def spec_of(round_) -> RoundSpec:
    """The round's current configuration (validated when it was loaded)."""
    return RoundSpec.model_validate(round_.spec)
