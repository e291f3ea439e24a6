"""An evaluation plan (评议方案), as a county or township writes it in YAML: who is rated, by whom,
on what, when, how the ballots add up, and which item of which scheme receives the result.

A plan is a file of its own beside the scheme files (not a block inside a scheme): one plan names
one scheme and may feed several of its items (the branch's monthly round, the masses' quarterly
one, the members' half-yearly one), and a county changes its evaluations without loading a new
version of its scoring rules. It is read by the schemes' loader
(`kaoping.schemes.loader.load_yaml_model`), so a mistake is reported at its file line exactly as in
a scheme file; docs/evaluations.md is the format's page and evaluations/jinggang-2026.yaml a
worked example.

```yaml
code: jinggang-2026
name: 靖港镇2026年党员“三评”
scheme: party-member-points     # the scheme whose items receive the results
campaigns:
  - code: branch
    name: 支部月评
    raters: branch_committee    # who rates (RaterPool)
    cadence: month              # the period the result is written into
    item: EV01                  # the scheme's evaluation item (rule: quantity)
    window_days: 7
    form:
      - {code: role, name: 作用发挥, scale: {好: 5, 较好: 4, 一般: 3, 差: 1}}
      - {code: duty, name: 履行义务, max: 100}
    combine: mean               # one ballot's mark: mean or sum of its items
    aggregate: trimmed_mean     # mean | trimmed_mean (drops one highest and one lowest)
    min_ballots: 3
```
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from django.utils.translation import gettext
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from kaoping.schemes.spec import Cadence, Code, Name

Mark = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, le=1000)]
# A plan's and a campaign's code and name as their rows keep them (Plan.code and Round.campaign
# hold 40 characters, Plan.name and Round.name 100): longer is refused at its line.
RowCode = Annotated[Code, Field(max_length=40)]
RowName = Annotated[Name, Field(max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RaterPool(StrEnum):
    """Who rates a subject (三评: the branch monthly, the masses quarterly, each other
    half-yearly; 集中评比: a panel)."""

    # Logins holding a village secretary's or committee role in the subject's village.
    BRANCH_COMMITTEE = "branch_committee"
    # Party members of the subject's branch (a party member subject) or of its village (a team or
    # village subject), each through a personal code; nobody rates themselves.
    BRANCH_MEMBERS = "branch_members"
    # Households of the subject's village, each through its own code, without an account.
    MASSES_VILLAGE = "masses_village"
    # The households a party member links (一联); party member subjects only.
    MASSES_LINKED = "masses_linked"
    # Logins named as judges when the round is opened; they score on their phones in a session.
    PANEL = "panel"


# Pools whose raters use a code (QR or link) instead of an account.
CODE_POOLS = frozenset(
    {RaterPool.BRANCH_MEMBERS, RaterPool.MASSES_VILLAGE, RaterPool.MASSES_LINKED}
)
# Pools whose raters are households (one ballot per household per subject).
HOUSEHOLD_POOLS = frozenset({RaterPool.MASSES_VILLAGE, RaterPool.MASSES_LINKED})


class Aggregate(StrEnum):
    MEAN = "mean"
    # Drops one highest and one lowest ballot (集中评比: 去掉一个最高分和一个最低分).
    TRIMMED_MEAN = "trimmed_mean"


class Combine(StrEnum):
    MEAN = "mean"
    SUM = "sum"


class FormItem(_Model):
    """One question of the form: either a scale of named levels, each worth a mark, or a score
    from 0 to `max`."""

    code: Code
    name: Name
    scale: dict[Name, Mark] | None = None
    max: Mark | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.scale is None) == (self.max is None):
            raise ValueError(gettext("a form item has either a scale or a max, not both"))
        if self.scale is not None and len(self.scale) < 2:
            raise ValueError(gettext("a scale needs at least two levels"))
        if self.max is not None and self.max <= 0:
            raise ValueError(gettext("max must be greater than 0"))
        return self

    @field_validator("scale")
    @classmethod
    def _best_first(cls, scale):
        # Levels are offered best first, whatever order the file or the database (PostgreSQL's
        # jsonb orders an object's keys by their length) keeps them in.
        if scale is None:
            return None
        return dict(sorted(scale.items(), key=lambda level: (-level[1], level[0])))

    @property
    def top(self) -> Decimal:
        """The highest mark this item can give."""
        return self.max if self.max is not None else max(self.scale.values())


class Campaign(_Model):
    code: RowCode
    name: RowName
    raters: RaterPool
    cadence: Cadence
    item: Code
    # Subjects of these tracks only (e.g. the villages of one contest track); empty: all.
    tracks: tuple[Annotated[str, Field(min_length=1, max_length=32)], ...] = ()
    window_days: StrictInt = Field(7, ge=1, le=90)
    form: tuple[FormItem, ...] = Field(min_length=1, max_length=30)
    combine: Combine = Combine.MEAN
    aggregate: Aggregate = Aggregate.MEAN
    min_ballots: StrictInt = Field(1, ge=1, le=10_000)
    comment: StrictBool = True

    @model_validator(mode="after")
    def _codes_unique(self):
        codes = [item.code for item in self.form]
        if len(codes) != len(set(codes)):
            raise ValueError(gettext("the codes of the form's items must differ"))
        if self.aggregate is Aggregate.TRIMMED_MEAN and self.min_ballots < 3:
            raise ValueError(gettext("a trimmed mean needs min_ballots of at least 3"))
        return self

    @property
    def top(self) -> Decimal:
        """The highest mark a ballot can give."""
        marks = [item.top for item in self.form]
        return sum(marks, Decimal(0)) if self.combine is Combine.SUM else max(marks)


class PlanSpec(_Model):
    code: RowCode
    name: RowName
    scheme: Code
    campaigns: tuple[Campaign, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _campaigns_unique(self):
        codes = [c.code for c in self.campaigns]
        if len(codes) != len(set(codes)):
            raise ValueError(gettext("the codes of the campaigns must differ"))
        return self

    def campaign(self, code: str) -> Campaign:
        return next(c for c in self.campaigns if c.code == code)


def spec_of(data: dict) -> PlanSpec:
    """A plan's stored configuration (JSON) as the model."""
    return PlanSpec.model_validate(data)
