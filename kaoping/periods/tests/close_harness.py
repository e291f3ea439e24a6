"""Harness of the close property tests: a world to score, random ledgers, and the reference.

The SQL close (`kaoping.periods.engine`) must agree with `scoring.evaluate` for every
subject and every node. `check_close` rebuilds each subject's inputs in Python from the entries
the test wrote (its drafts; plus any the system recorded itself) and the metric values, and
compares result by result, node by node; `snapshot` captures everything a close wrote, so that
two closes can be compared.

Hypothesis and pytest-django's function-scoped fixtures do not mix, so each test builds its
world in its body and every example runs inside `rolled_back()`: a bare savepoint, not an
atomic block, so that the durable `period_close` can still run inside it.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from django.db import transaction
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry, EntrySource, MetricValue
from kaoping.people.models import Household, Subject
from kaoping.periods import services
from kaoping.periods.breakdown import PART_PREFIX, NodeValue, node_values
from kaoping.periods.engine import ADJUST_CODE
from kaoping.periods.metrics import COMPUTED
from kaoping.periods.models import Period, Result
from kaoping.regions.models import NaturalVillage
from kaoping.schemes.calendar import period_dates
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.models import METRIC_SCALE, QTY_SCALE, Scheme, SchemeNode, SchemeVersion
from kaoping.schemes.scoring import Evaluation, evaluate, linear_reach, no_data_outcome
from kaoping.schemes.services import scheme_load
from kaoping.schemes.sources import source_items
from kaoping.schemes.spec import ROOT_CODE, FlatNode, Linear, Rule, SchemeSpec, VetoEffect
from kaoping.testing import SmallCounty, build_small_county

SCHEMES = Path(__file__).resolve().parents[3] / "schemes"
SHIPPED = sorted(p.name for p in SCHEMES.glob("*.yaml"))

COUNTY = "330304"
VILLAGES = ("330304001001", "330304001002", "330304002001")
GRIDS = ("330304001001001", "330304001001002", "330304001002001", "330304002001001")

# A few labels per cadence: a 28-day month, a 31-day month, a year boundary.
LABELS = {
    "month": ("2026-02", "2026-03", "2025-12"),
    "quarter": ("2026-Q1", "2025-Q4"),
    "half_year": ("2026-H1", "2026-H2"),
    "year": ("2026",),
}


@contextmanager
def rolled_back() -> Iterator[None]:
    """Undo everything written inside, even when the block raises.

    Parsed specs may be cached by version id, and ids can be reused after a rollback (SQLite),
    so the close's cache is cleared too.
    """
    sid = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(sid)
        getattr(services, "_SPECS", {}).clear()


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    county: SmallCounty
    version: SchemeVersion
    spec: SchemeSpec
    # Subjects the generated ledger writes to: the scored ones first, then the noise (an
    # inactive subject of the scheme's kind and an active one of another kind) whose entries
    # the close must ignore.
    scored: list[Subject]
    noise: list[Subject]

    @property
    def scheme(self):
        return self.version.scheme

    @property
    def writers(self) -> list[Subject]:
        return [*self.scored, *self.noise]


def load(county: SmallCounty, text: str, filename: str = "generated.yaml") -> SchemeVersion:
    load_sources(county, text)
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region(COUNTY), acting_user=system_actor()
    )
    return version


def load_sources(county: SmallCounty, text: str) -> None:
    """Load the shipped schemes whose results `text` reads (`source:`, e.g. qianfen-team reads
    leitai-biwu) that are not loaded yet: the upload refuses a scheme reading an unknown one."""
    for _path, item in source_items(load_scheme_text(text)):
        code = item.source.scheme
        if not Scheme.objects.filter(code=code).exists() and (SCHEMES / f"{code}.yaml").exists():
            load(county, shipped_text(f"{code}.yaml"), f"{code}.yaml")


def shipped_text(filename: str) -> str:
    return (SCHEMES / filename).read_text(encoding="utf-8")


def record(
    world, subject, item, quantity="1", *, on=date(2026, 3, 10), label="", cadence="", sign=1
):
    """One approved entry, written straight to the ledger (the close is what is under test)."""
    return Entry.objects.create(
        scheme=world.scheme,
        subject=subject,
        item_code=item,
        quantity_scaled=int(Decimal(quantity) * QTY_SCALE),
        label=label,
        occurred_on=on,
        status="approved",
        cadence=cadence,
        sign=sign,
    )


def _subject(kind: str, region, name: str, **profile) -> Subject:
    """The subject of a profile (or of a village, for villages and teams), made if missing."""
    lookup = {"kind": kind, **profile} if profile else {"kind": kind, "region": region}
    found = Subject.objects.filter(**lookup).first()
    return found or Subject.objects.create(kind=kind, region=region, name=name, **profile)


def make_subjects(county: SmallCounty, kind: str) -> tuple[list[Subject], list[Subject]]:
    """Subjects of `kind` across the small county, tied to their profiles where there are some.

    Tied so that the subject sync (which gives every profile without a subject one) adds no
    duplicates; `check_close` reads the scored set from the database anyway.
    """
    regions = county.regions
    heads = list(county.persons.values())  # one head per household, two households per grid
    scored: list[Subject] = []
    if kind in ("village", "team"):
        scored = [_subject(kind, regions[code], f"{kind} {code}") for code in VILLAGES]
    elif kind in ("cadre", "party_member"):
        chosen = heads[:6] if kind == "party_member" else heads[::2]
        scored = [
            _subject(kind, person.region.parent, person.name, person=person) for person in chosen
        ]
    elif kind == "household":
        scored = [
            _subject(kind, household.region, household.number, household=household)
            for household in county.households.values()
        ]
    elif kind == "grid":
        scored = [_subject(kind, regions[code], f"grid {code}") for code in GRIDS]
    elif kind == "natural_village":
        scored = [
            _subject(kind, natural.village, natural.name, natural_village=natural)
            for natural in natural_villages(county)
        ]
    else:  # pragma: no cover - the scheme kinds are an enum
        raise ValueError(kind)
    for subject in scored:
        if not subject.active:
            Subject.objects.filter(pk=subject.pk).update(active=True)
            subject.active = True
    # Grids hold no village or team subject, so the (kind, region) uniqueness is respected.
    inactive = Subject.objects.create(
        kind=kind, region=regions[GRIDS[0]], name="停用", active=False
    )
    other_kind = "team" if kind != "team" else "village"
    stranger = Subject.objects.create(kind=other_kind, region=regions[GRIDS[2]], name="别的对象")
    return scored, [inactive, stranger]


def build_world(text: str, filename: str = "generated.yaml", county=None) -> World:
    county = county or build_small_county()
    version = load(county, text, filename)
    spec = load_scheme_text(text, filename=filename)
    scored, noise = make_subjects(county, str(spec.subject_kind))
    return World(county, version, spec, scored, noise)


# Natural villages (自然村/村民小组) of the small county: three in one village, one in another,
# none in the third, so households fall in a group, in their village's, or in a village without.
NATURAL_VILLAGES = (
    (VILLAGES[0], "01", "一组"),
    (VILLAGES[0], "02", "二组"),
    (VILLAGES[0], "03", "上岙自然村"),
    (VILLAGES[1], "01", "一组"),
)


def natural_villages(county: SmallCounty) -> list[NaturalVillage]:
    """The small county's natural villages, made if missing."""
    return [
        NaturalVillage.objects.get_or_create(
            village=county.regions[village], code=code, defaults={"name": name}
        )[0]
        for village, code, name in NATURAL_VILLAGES
    ]


def natural_village_choices(county: SmallCounty) -> list[list[NaturalVillage | None]]:
    """For each household of the small county (in order): none, or one of its village's."""
    made = natural_villages(county)
    return [
        [None, *(n for n in made if n.village.code == household.region.code[:12])]
        for household in county.households.values()
    ]


def set_natural_villages(county: SmallCounty, chosen: Sequence[NaturalVillage | None]) -> None:
    for household, natural in zip(county.households.values(), chosen, strict=True):
        Household.objects.filter(pk=household.pk).update(natural_village=natural)


def tracks_for(spec: SchemeSpec) -> list[str]:
    """Tracks a subject may carry: every variant, none, and one the scheme does not know."""
    return [*spec.variants, "", "未知赛道"]


def set_tracks(subjects: Sequence[Subject], tracks: Sequence[str]) -> None:
    for subject, track in zip(subjects, tracks, strict=True):
        Subject.objects.filter(pk=subject.pk).update(track=track)
        subject.track = track


# -- ledgers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """One entry to write; `reverses` is the index of the draft it cancels."""

    subject: int  # index into World.writers
    item: str
    quantity: Decimal
    on: date
    label: str = ""
    status: str = "approved"
    cadence: str = ""
    sign: int = 1
    reverses: int | None = None


def quantities() -> st.SearchStrategy[Decimal]:
    """Mostly small whole numbers, sometimes up to three decimals (the ledger's precision)."""
    return st.one_of(
        st.integers(0, 4).map(Decimal),
        st.integers(0, 20_000).map(lambda n: Decimal(n).scaleb(-3)),
    )


def dates_around(start: date, end: date) -> st.SearchStrategy[date]:
    span = (end - start).days
    edges = [start, end, start - timedelta(days=1), end + timedelta(days=1)]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(-4, span + 4).map(lambda d: start + timedelta(days=d)),
    )


@st.composite
def ledgers(
    draw,
    spec: SchemeSpec,
    writers: int,
    start: date,
    end: date,
    *,
    cadences: Sequence[str] = ("", "", "", "year"),
    max_entries: int = 30,
) -> list[Draft]:
    """Random entries over every item of `spec` (including items some variants exclude, metric
    and group codes and unknown codes, which the close must ignore), with reversals, entries
    outside the period or of another cadence, and entries that are not approved. Items of
    overlays are drawn for every subject: those outside the overlay's region must be ignored."""
    flat = list(
        {row.code: row for key in spec.variant_keys() for row in spec.flatten(key)}.values()
    )
    by_rule: dict[Rule, list[FlatNode]] = defaultdict(list)
    for row in flat:
        if row.is_item:
            by_rule[row.rule].append(row)
    # Rules first, then an item of the rule, so that the few vetoes and ratings of a long list
    # are drawn as often as its many count items; vetoes less often, or every total is 0.
    weights = {Rule.COUNT: 4, Rule.QUANTITY: 2, Rule.RATING: 3, Rule.METRIC: 1, Rule.VETO: 1}
    rules = [rule for rule in weights for _ in range(weights[rule]) if by_rule[rule]]
    noise = [row.code for row in flat if not row.is_item and row.code != ROOT_CODE][:2]
    noise += ["NO-SUCH-ITEM", ADJUST_CODE]
    drafts: list[Draft] = []
    count = draw(st.one_of(st.just(0), st.integers(1, 8), st.integers(8, max_entries)))
    for _ in range(count):
        subject = draw(st.integers(0, writers - 1))
        if draw(st.integers(0, 14)) == 0:
            row = None
            code = draw(st.sampled_from(noise))
        else:
            row = draw(st.sampled_from(by_rule[draw(st.sampled_from(rules))]))
            code = row.code
        label = ""
        quantity = Decimal(1)
        if row is not None and row.rule is Rule.RATING:
            label = draw(st.sampled_from([label for label, _factor in row.levels]))
        elif row is None or row.rule in (Rule.COUNT, Rule.QUANTITY, Rule.METRIC):
            quantity = draw(quantities())
        draft = Draft(
            subject=subject,
            item=code,
            quantity=quantity,
            label=label,
            on=draw(dates_around(start, end)),
            status=draw(
                st.sampled_from(["approved", "approved", "approved", "submitted", "rejected"])
            ),
            cadence=draw(st.sampled_from(list(cadences))),
        )
        drafts.append(draft)
        if draw(st.integers(0, 4)) == 0:
            # A correction: the same entry reversed (same day, status and cadence).
            drafts.append(Draft(**{**draft.__dict__, "sign": -1, "reverses": len(drafts) - 1}))
    return drafts


def linear_ties(linear: Linear, decimals: int) -> set[Decimal]:
    """Metric values (four places) where the line's step part, step × (value − target) ÷ unit,
    is an exact half of the scheme's last place, on both sides of the target: rounding ties,
    which a base of the other sign tells apart from rounding the step part alone."""
    if linear.step == 0:
        return set()
    # Halves within ±25 points: where a base (at most 20 in generated schemes) can be of the
    # other sign than the step part and the line is not yet held by floor or max.
    reach = min(2000, 25 * 10**decimals)
    ties = set()
    for j in range(-reach, reach):
        half = Fraction(2 * j + 1, 2 * 10**decimals)
        deviation = half * Fraction(linear.unit) / Fraction(linear.step) * METRIC_SCALE
        if deviation.denominator == 1:
            ties.add(linear.target + Decimal(deviation.numerator).scaleb(-4))
    return ties


def metric_values_for(spec: SchemeSpec) -> st.SearchStrategy[Decimal]:
    """Metric values on and around every band bound of the scheme, and anywhere in between;
    for a linear item also its rounding ties (`linear_ties`), where the line meets its floor
    and max, and far out (deviations the close holds to its reach before multiplying)."""
    place = Decimal(1).scaleb(-4)  # metric values keep four places (METRIC_SCALE)
    bounds: set[Decimal] = set()
    ties: set[Decimal] = set()
    for row in spec.flatten():
        for band in row.bands:
            for bound in (band.min, band.max):
                if bound is not None:
                    bounds.add(bound)
        if row.linear is not None:
            ties |= linear_ties(row.linear, spec.decimals)
            target = row.linear.target
            bounds |= {target + Decimal(10**12) / 4, target - Decimal(10**12) / 4}
            for reach in linear_reach(row.linear):
                if reach is not None:
                    at = target + Decimal(reach.numerator) / reach.denominator
                    bounds.add(at.quantize(place))
    near = sorted({b + d for b in bounds for d in (-place, Decimal(0), place)})
    anywhere = st.integers(-300_000, 1_500_000).map(lambda n: Decimal(n).scaleb(-4))
    choices = [st.sampled_from(sorted(ties))] if ties else []
    choices += [st.sampled_from(near)] if near else []
    return st.one_of(*choices, anywhere)


def reported_metrics(spec: SchemeSpec) -> list[str]:
    """Metric names the scheme uses that a department reports (computed ones are written by
    the close itself)."""
    names = {row.metric for row in spec.flatten() if row.metric}
    return sorted(names - set(COMPUTED))


@st.composite
def metric_reports(draw, spec: SchemeSpec, writers: int) -> dict[tuple[int, str], Decimal]:
    names = reported_metrics(spec)
    values = metric_values_for(spec)
    reports = {}
    for subject in range(writers):
        for name in names:
            if draw(st.booleans()):
                reports[(subject, name)] = draw(values)
    return reports


def write_ledger(world: World, drafts: Sequence[Draft], order: Sequence[int] | None = None) -> None:
    """Write the drafts (in `order`, a permutation of their indices) and link the reversals."""
    order = list(range(len(drafts))) if order is None else list(order)
    writers = world.writers
    created: dict[int, Entry] = {}
    for index in order:
        d = drafts[index]
        created[index] = Entry.objects.create(
            scheme=world.scheme,
            subject=writers[d.subject],
            item_code=d.item,
            quantity_scaled=int(d.quantity * QTY_SCALE),
            label=d.label,
            occurred_on=d.on,
            status=d.status,
            sign=d.sign,
            cadence=d.cadence,
        )
    for index, d in enumerate(drafts):
        if d.reverses is not None:
            Entry.objects.filter(pk=created[index].pk).update(reverses=created[d.reverses])


def write_metrics(
    world: World, period: Period, reports: dict[tuple[int, str], Decimal], order=None
) -> None:
    keys = list(reports)
    for i in order if order is not None else range(len(keys)):
        subject, name = keys[i]
        MetricValue.objects.create(
            scheme_id=period.scheme_id,
            period_label=period.label,
            subject=world.writers[subject],
            metric=name,
            value_scaled=int(reports[keys[i]] * METRIC_SCALE),
        )


# -- the reference ------------------------------------------------------------------------------


def inputs_from(
    spec: SchemeSpec,
    drafts: Sequence[Draft],
    start: date,
    end: date,
    cadence: str = "",
) -> dict:
    """The reference inputs of one subject for one period, from the subject's drafts.

    count/quantity → net quantity; rating → the labels given (a reversal removes one
    occurrence of its label); veto → fired while an approved entry stands.
    """
    # Every tree's items (overlays add some): `evaluate` reads those of the subject's tree.
    rules = {
        row.code: row.rule
        for key in spec.variant_keys()
        for row in spec.flatten(key)
        if row.is_item
    }
    sums: dict[str, Decimal] = defaultdict(Decimal)
    labels: dict[str, Counter] = defaultdict(Counter)
    vetoes: dict[str, int] = defaultdict(int)
    for d in drafts:
        if d.status != "approved" or d.cadence != cadence:
            continue
        if not start <= d.on <= end:
            continue
        rule = rules.get(d.item)
        if rule in (Rule.COUNT, Rule.QUANTITY):
            sums[d.item] += d.sign * d.quantity
        elif rule is Rule.RATING:
            labels[d.item][d.label] += d.sign
        elif rule is Rule.VETO:
            vetoes[d.item] += d.sign
    inputs: dict = dict(sums)
    for code, counter in labels.items():
        assert min(counter.values()) >= 0, "a reversal without its original"
        inputs[code] = sorted(counter.elements())
    for code, count in vetoes.items():
        inputs[code] = count > 0
    return inputs


def drafts_by_subject(world: World, drafts: Sequence[Draft]) -> dict[int, list[Draft]]:
    """The drafts by subject id, with the entries the system recorded itself (items with
    `from_metric`, written by the close) read back from the ledger."""
    ledger: dict[int, list[Draft]] = defaultdict(list)
    for d in drafts:
        ledger[world.writers[d.subject].pk].append(d)
    for e in Entry.objects.filter(scheme=world.scheme, source=EntrySource.COMPUTED):
        ledger[e.subject_id].append(
            Draft(
                subject=-1,
                item=e.item_code,
                quantity=Decimal(e.quantity_scaled) / QTY_SCALE,
                on=e.occurred_on,
                label=e.label,
                status=e.status,
                cadence=e.cadence,
                sign=e.sign,
            )
        )
    return ledger


def metric_inputs(spec: SchemeSpec, variant: str | None, values: dict[str, Decimal]) -> dict:
    return {
        row.code: values[row.metric]
        for row in spec.flatten(variant)
        if row.rule is Rule.METRIC and row.metric in values
    }


def variant_of(spec: SchemeSpec, track: str, region_code: str = "") -> str | None:
    """The tree a subject is scored with (`SchemeSpec.variant_for`), None for the default."""
    return spec.variant_for(track, region_code) or None


def rank_group(spec: SchemeSpec, subject: Subject) -> str:
    code = subject.region.code
    if str(spec.ranking.within) == "natural_village":
        # A household in a natural village: `<village code>/<code>`; else its village alone.
        household = Household.objects.filter(pk=subject.household_id).first()
        natural = household.natural_village if household else None
        return f"{natural.village.code}/{natural.code}" if natural else code[:12]
    return {
        "county": "",
        "township": code[:9],
        "village": code[:12],
        "track": subject.track,
        "class": subject.track,
    }[str(spec.ranking.within)]


def expected_ranks(spec: SchemeSpec, totals: dict[int, int], groups: dict[int, str]) -> dict:
    """Competition (1, 2, 2, 4) or dense (1, 2, 2, 3) ranks inside each group."""
    sign = -1 if str(spec.ranking.order) == "desc" else 1
    ranks = {}
    for subject, total in totals.items():
        rivals = [totals[o] for o in totals if groups[o] == groups[subject]]
        better = [t for t in rivals if sign * t < sign * total]
        ranks[subject] = 1 + (
            len(set(better)) if str(spec.ranking.ties) == "dense" else len(better)
        )
    return ranks


def scale_of(version: SchemeVersion, value: Decimal) -> int:
    scaled = value.scaleb(version.decimals)
    assert scaled == scaled.to_integral_value(), (value, version.decimals)
    return int(scaled)


# -- comparing ----------------------------------------------------------------------------------


@dataclass
class Checked:
    """What `check_close` saw, for assertions on top of the comparison."""

    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    results: dict[int, Result] = field(default_factory=dict)


def has_data(
    drafts: Sequence[Draft], metrics: dict[str, Decimal], start: date, end: date, cadence: str = ""
) -> bool:
    """The reference of “a subject has data in the period” (no_data): an approved entry of the
    scheme dated in it and of its cadence that the close did not compute (computed entries are
    read back with subject −1), whatever its item; or a reported metric value."""
    entered = any(
        d.subject != -1 and d.status == "approved" and d.cadence == cadence and start <= d.on <= end
        for d in drafts
    )
    return entered or any(name not in COMPUTED for name in metrics)


def without_data(world: World, period: Period, drafts: Sequence[Draft], cadence: str = "") -> set:
    """Ids of the scored subjects without data in `period`, by the reference."""
    ledger = drafts_by_subject(world, drafts)
    metrics: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for m in MetricValue.objects.filter(scheme_id=period.scheme_id, period_label=period.label):
        metrics[m.subject_id][m.metric] = Decimal(m.value_scaled) / METRIC_SCALE
    return {
        s.pk
        for s in scored_subjects(world.spec)
        if not has_data(ledger[s.pk], metrics[s.pk], period.start, period.end, cadence)
    }


def scored_subjects(spec: SchemeSpec) -> list[Subject]:
    """Everything the close scores: active subjects of the kind under the county."""
    return list(
        Subject.objects.filter(
            kind=str(spec.subject_kind), active=True, region__code__startswith=COUNTY
        ).select_related("region")
    )


def check_nodes(spec, version, variant, ev, mine, stored_nodes, where) -> None:
    """Every node of one subject: its stored row, or the empty value when nothing is recorded
    below it, equals the reference; and no node lies beyond its limits."""
    flat: list[FlatNode] = spec.flatten(variant)
    codes = {row.code for row in flat}
    assert set(mine) <= codes, (where, set(mine) - codes)  # nothing for excluded items
    for row in flat:
        stored = stored_nodes[(variant or "", row.code)]
        expected = scale_of(version, ev.values[row.code])
        if row.code in mine:
            node = mine[row.code]
            assert node.value == expected, (where, row.code, ev.values[row.code], node.value)
            assert node.empty_value == stored.empty_value, (where, row.code)
            assert node.fired == (row.code in ev.vetoes), (where, row.code)
            value = node.value
        else:
            assert stored.empty_value == expected, (where, row.code, "empty value")
            assert row.code not in ev.vetoes, (where, row.code)
            value = stored.empty_value
        # Invariants: no node beyond its max, floor or cap (a floor above the cap or a max
        # below −cap is rejected when the scheme is checked, so all three hold together).
        if row.max is not None:
            assert value <= scale_of(version, row.max), (where, row.code, "above max")
        if row.floor is not None:
            assert value >= scale_of(version, row.floor), (where, row.code, "below floor")
        if row.cap is not None:
            assert abs(value) <= scale_of(version, row.cap), (where, row.code, "beyond cap")


def check_close(
    world: World,
    period: Period,
    drafts: Sequence[Draft],
    *,
    cadence: str = "",
    spec: SchemeSpec | None = None,
    nodes_only: bool = False,
) -> Checked:
    """Assert that the stored close of `period` equals the reference for every subject and node,
    and the invariants every close keeps. `cadence` is the entries' cadence ('' for the
    scheme's own, the roll-up's for the own assessment of a composite, whose results are the
    roll-up's: `nodes_only` then compares the tree's nodes and leaves the results alone)."""
    spec = spec or world.spec
    version = period.version
    ledger = drafts_by_subject(world, drafts)
    subjects = scored_subjects(spec)
    results = {r.subject_id: r for r in Result.objects.filter(period=period)}
    if nodes_only:
        assert set(results) == {s.pk for s in subjects}, "one result per scored subject"
    rows: dict[int, dict[str, NodeValue]] = defaultdict(dict)
    for result in results.values():
        for code, node in result.nodes().items():
            if not code.startswith(PART_PREFIX):
                rows[result.subject_id][code] = node
    metrics: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for m in MetricValue.objects.filter(scheme_id=period.scheme_id, period_label=period.label):
        metrics[m.subject_id][m.metric] = Decimal(m.value_scaled) / METRIC_SCALE
    stored_nodes = {(n.variant, n.code): n for n in SchemeNode.objects.filter(version=version)}
    grade_position = {g.code: i for i, g in enumerate(spec.grades)}
    checked = Checked()
    totals, groups = {}, {}
    if not nodes_only:
        outcome = {
            s.pk: no_data_outcome(
                spec,
                has_data(ledger[s.pk], metrics[s.pk], period.start, period.end, cadence),
            )
            for s in subjects
        }
        assert "refuse" not in outcome.values(), "a blocked close wrote results"
        subjects = [s for s in subjects if outcome[s.pk] == "score"]
        excluded = set(outcome) - {s.pk for s in subjects}
        assert not excluded & set(rows), "no node values for an excluded subject"
        assert set(results) == {s.pk for s in subjects}, "results for exactly the scored ones"
    for subject in subjects:
        variant = variant_of(spec, subject.track, subject.region.code)
        inputs = inputs_from(spec, ledger[subject.pk], period.start, period.end, cadence)
        inputs |= metric_inputs(spec, variant, metrics[subject.pk])
        ev = evaluate(spec, inputs, variant=variant)
        result = results[subject.pk]
        where = f"{subject.name} ({subject.track or '-'}) in {period.label}"
        checked.evaluations[subject.pk] = ev
        checked.results[subject.pk] = result

        if nodes_only:
            check_nodes(spec, version, variant, ev, rows[subject.pk], stored_nodes, where)
            continue

        # The result.
        assert result.variant == (variant or ""), where
        assert version.to_points(result.total) == ev.total, (where, inputs)
        assert version.to_points(result.raw_total) == ev.values[ROOT_CODE], (where, inputs)
        assert result.grade_code == (ev.grade.code if ev.grade else ""), (where, inputs)
        assert result.zeroed == ev.zeroed, where
        assert result.barred == ev.barred, where
        fired = [spec.item(code) for code in ev.vetoes]
        forced = [v.grade for v in fired if v.effect is VetoEffect.GRADE]
        assert result.grade_forced == bool(forced), where

        check_nodes(spec, version, variant, ev, rows[subject.pk], stored_nodes, where)
        # Invariants: vetoes.
        if any(v.effect is VetoEffect.ZERO for v in fired):
            assert result.total == 0 and result.zeroed, where
        if forced:
            assert result.grade_code == max(forced, key=grade_position.__getitem__), where
        if result.barred and result.grade_code and not forced:
            assert not spec.grade(result.grade_code).honour, where
        totals[subject.pk] = result.total
        groups[subject.pk] = rank_group(spec, subject)
        assert result.rank_group == groups[subject.pk], where
    if nodes_only:
        return checked
    ranks = expected_ranks(spec, totals, groups)
    for subject_id, result in results.items():
        assert result.rank == ranks[subject_id], (subject_id, result.rank, ranks[subject_id])
    return checked


def snapshot(period: Period) -> tuple[list, list]:
    """Everything a close wrote for `period`, without row ids."""
    results = list(
        Result.objects.filter(period=period)
        .order_by("subject_id")
        .values_list(
            "subject_id",
            "variant",
            "raw_total",
            "total",
            "grade_code",
            "grade_forced",
            "zeroed",
            "barred",
            "rank_group",
            "rank",
        )
    )
    nodes = [
        (subject_id, sorted(node_values(breakdown).items()))
        for subject_id, breakdown in Result.objects.filter(period=period)
        .order_by("subject_id")
        .values_list("subject_id", "breakdown")
    ]
    return results, nodes


def dates_of(cadence: str, label: str) -> tuple[date, date]:
    return period_dates(cadence, label)
