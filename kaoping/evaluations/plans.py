"""Loading an evaluation plan (评议方案): a county's or township's YAML file, checked against the
scheme it feeds, kept in versions.

The file is read by the schemes' loader, so every problem — a key mistyped, a scale without
levels, an item of the scheme that cannot take a number, a cadence the scheme holds no assessment
at — is reported at its file line. A plan whose campaigns already have rounds keeps what those
rounds were opened with: the campaign itself, who rates, the period it is written into and the
item it feeds (and the scheme); the form and the aggregation may change.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import ancestor_codes, subtree_q
from kaoping.people.models import Subject, SubjectKind
from kaoping.regions.models import Level, Region
from kaoping.schemes.labels import cadence_label, subject_kind_label
from kaoping.schemes.loader import DataPath, SchemeError, load_yaml_model
from kaoping.schemes.models import Scheme, SchemeNode
from kaoping.schemes.scoring import assessed_cadences

from .labels import pool_label
from .models import Plan, PlanVersion, Round
from .spec import PlanSpec, RaterPool, spec_of

FILENAME_MAX = 200  # PlanVersion.filename
PLAN_LEVELS = (Level.COUNTY, Level.TOWNSHIP)
# An evaluation's result is a number. The item it feeds turns it into points: `quantity` as result
# × points (an entry of that quantity), `metric` by the item's bands (a metric value of the period).
RESULT_RULES = ("quantity", "metric")


def plan_read(*, region: Region, text: str, filename: str) -> tuple[PlanSpec, Scheme]:
    """The plan file's configuration and the scheme it feeds, checked against the database; a
    KaopingError on `file` listing every problem with its line otherwise."""
    return _read(region=region, text=text, filename=filename)


def plan_load(
    *, region: Region, text: str, filename: str, acting_user, plan: Plan | None = None
) -> Plan:
    """Load a plan file for `region` (a county or a township): a new plan with its version 1,
    or, when the region already has a plan with the file's code, that plan's next version.

    `plan` (from the plan's own page) says the file is a new version of that plan: its code must
    stay. A new version may not drop a campaign that has rounds, nor change its raters, cadence
    or item, nor change the scheme of a plan with rounds."""
    ensure(acting_user, "evaluation.manage", region)
    if region.level not in PLAN_LEVELS:
        raise KaopingError({"region": _("An evaluation plan belongs to a county or a township.")})
    if plan is not None and plan.region_id != region.pk:
        raise KaopingError({"region": _("This plan belongs to another region.")})
    with transaction.atomic():
        # Read inside the transaction: the checks lock the plan the file continues, so a round
        # opened meanwhile is seen by the rule that keeps its campaign.
        found: dict[str, Plan] = {}
        spec, scheme = _read(
            region=region,
            text=text,
            filename=filename,
            keep_code=plan.code if plan else None,
            found=found,
            lock=True,
        )
        data = spec.model_dump(mode="json")
        existing = found.get("plan")
        if existing is None:
            loaded = Plan.objects.create(
                region=region,
                scheme=scheme,
                code=spec.code,
                name=spec.name,
                spec=data,
                version=1,
                loaded_by=acting_user,
            )
            before = None
        else:
            loaded = existing
            before = {"version": existing.version, "name": existing.name}
            loaded.scheme, loaded.name, loaded.spec = scheme, spec.name, data
            loaded.version = existing.version + 1
            Plan.objects.filter(pk=loaded.pk).update(
                scheme=scheme, name=spec.name, spec=data, version=loaded.version
            )
        PlanVersion.objects.create(
            plan=loaded,
            number=loaded.version,
            filename=(filename or _("pasted text"))[:FILENAME_MAX],
            source=text,
            spec=data,
            loaded_by=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="evaluation.plan.loaded",
            obj=loaded,
            region_code=region.code,
            before=before,
            after={
                "code": spec.code,
                "name": spec.name,
                "version": loaded.version,
                "scheme": scheme.code,
                "campaigns": [c.code for c in spec.campaigns],
            },
        )
    return loaded


def _read(
    *,
    region: Region,
    text: str,
    filename: str,
    keep_code: str | None = None,
    found: dict | None = None,
    lock: bool = False,
) -> tuple[PlanSpec, Scheme]:
    found = {} if found is None else found

    def checks(spec: PlanSpec) -> Iterable[tuple[DataPath, str]]:
        if keep_code is not None and spec.code != keep_code:
            yield (("code",), _("the code must stay %(code)s") % {"code": keep_code})
            return
        scheme = _scheme_for(spec.scheme, region)
        if scheme is None:
            yield (("scheme",), _unknown_scheme(spec.scheme, region))
            return
        found["scheme"] = scheme
        yield from _campaign_problems(spec, scheme, region)
        plans = Plan.objects.select_for_update() if lock else Plan.objects.all()
        existing = plans.filter(region=region, code=spec.code).first()
        if existing is not None:
            found["plan"] = existing
            yield from _kept(existing, spec, scheme)

    try:
        spec = load_yaml_model(text, PlanSpec, filename or "<string>", checks=checks)
    except SchemeError as exc:
        raise KaopingError({"file": [str(p) for p in exc.problems]}) from exc
    return spec, found["scheme"]


def _covering(region: Region) -> list[str]:
    """The codes of `region` and the regions above it: a scheme of one of them covers it."""
    return [*ancestor_codes(region.code), region.code]


def _scheme_for(code: str, region: Region) -> Scheme | None:
    return (
        Scheme.objects.filter(code=code, region__code__in=_covering(region))
        .select_related("region")
        .first()
    )


def _unknown_scheme(code: str, region: Region) -> str:
    known = Scheme.objects.filter(region__code__in=_covering(region)).order_by("code")
    return _("no scheme with the code %(code)s covers %(region)s (schemes here: %(known)s)") % {
        "code": code,
        "region": region.name,
        "known": "、".join(f"{s.code} {s.name}" for s in known) or _("none"),
    }


def _campaign_problems(
    spec: PlanSpec, scheme: Scheme, region: Region
) -> Iterable[tuple[DataPath, str]]:
    """Whether each campaign can feed the scheme: its item takes a number, its cadence is one the
    scheme records at, its raters and tracks suit the scheme's subjects."""
    version = scheme.latest_version()
    scheme_spec = version.spec()
    items = {
        node.code: node
        for node in SchemeNode.objects.filter(version=version, variant="", is_item=True)
    }
    cadences = {scheme.cadence, *assessed_cadences(scheme_spec)}
    tracks: set[str] | None = None
    fed: dict[tuple[str, str], str] = {}  # (metric, cadence) → the campaign that feeds it
    for i, campaign in enumerate(spec.campaigns):
        at: DataPath = ("campaigns", i)
        node = items.get(campaign.item)
        if node is None:
            numbers = [n for n in items.values() if n.rule in RESULT_RULES and _takes_result(n)]
            yield (
                (*at, "item"),
                _(
                    "%(code)s is not an item of the scheme %(scheme)s (its items that take a "
                    "number, rule: quantity or metric: %(known)s)"
                )
                % {
                    "code": campaign.item,
                    "scheme": scheme.name,
                    "known": "、".join(f"{n.code} {n.name}" for n in numbers) or _("none"),
                },
            )
        elif node.rule not in RESULT_RULES:
            yield (
                (*at, "item"),
                _(
                    "the item %(code)s %(name)s has rule: %(rule)s; an evaluation's result is a "
                    "number, so the item it feeds needs rule: quantity (points × the result) or "
                    "rule: metric (points from the result by the item's bands or its line)"
                )
                % {"code": node.code, "name": node.name, "rule": node.rule},
            )
        elif not _takes_result(node):
            yield (
                (*at, "item"),
                _("the item %(code)s %(name)s is computed by the system from %(metric)s")
                % {"code": node.code, "name": node.name, "metric": node.metric},
            )
        elif node.rule == "metric":
            # A metric holds one value per subject and period: a second campaign would overwrite
            # the first's results, not add to them as entries of a quantity item do.
            key = (node.metric, str(campaign.cadence))
            if key in fed:
                yield (
                    (*at, "item"),
                    _(
                        "the campaign %(other)s feeds the metric %(metric)s of %(code)s at the "
                        "same cadence already; a metric holds one value per period, so one "
                        "campaign's results would replace the other's"
                    )
                    % {"other": fed[key], "metric": node.metric, "code": node.code},
                )
            fed.setdefault(key, campaign.code)
        if str(campaign.cadence) not in cadences:
            yield ((*at, "cadence"), _cadence_problem(campaign.cadence, scheme, scheme_spec))
        if (
            campaign.raters is RaterPool.MASSES_LINKED
            and scheme.subject_kind != SubjectKind.PARTY_MEMBER
        ):
            yield (
                (*at, "raters"),
                _(
                    "%(pool)s (masses_linked) rate party members only; the scheme %(scheme)s "
                    "scores %(kind)s"
                )
                % {
                    "pool": pool_label(campaign.raters),
                    "scheme": scheme.name,
                    "kind": subject_kind_label(scheme.subject_kind),
                },
            )
        if campaign.tracks:
            if tracks is None:
                tracks = _known_tracks(scheme, scheme_spec, region)
            for j, track in enumerate(campaign.tracks):
                if track not in tracks:
                    yield (
                        (*at, "tracks", j),
                        _(
                            "no subject of the scheme %(scheme)s has the track %(track)s "
                            "(tracks: %(known)s)"
                        )
                        % {
                            "scheme": scheme.name,
                            "track": track,
                            "known": "、".join(sorted(tracks)) or _("none"),
                        },
                    )


def _takes_result(node: SchemeNode) -> bool:
    """A quantity item people record (not one the system computes from a metric), or a metric
    item whose metric no module of the system writes."""
    if node.rule == "metric":
        return node.metric not in settings.PUSHED_METRICS
    return not node.metric


def fed_metrics(scheme_id: int) -> set[str]:
    """The metrics of `scheme_id` that its evaluation plans feed: nobody reports them by hand
    (`settings.FED_METRICS`, read by periods.metrics.system_metrics)."""
    items = {
        campaign.item
        for spec in Plan.objects.filter(scheme_id=scheme_id).values_list("spec", flat=True)
        for campaign in spec_of(spec).campaigns
    }
    if not items:
        return set()
    return set(
        SchemeNode.objects.filter(
            version__scheme_id=scheme_id, code__in=items, is_item=True, aggregate="metric"
        )
        .exclude(metric="")
        .values_list("metric", flat=True)
    )


def _rollup_text(rollup) -> str:
    """季度(self)、年度(月度、季度、半年度): a roll-up's level and what it is made of."""
    parts = "、".join(
        "self" if str(p.source) == "self" else cadence_label(p.source) for p in rollup.parts
    )
    return f"{cadence_label(rollup.cadence)}({parts or rollup.method})"


def _cadence_problem(cadence, scheme: Scheme, scheme_spec) -> str:
    rollups = "、".join(_rollup_text(rollup) for rollup in scheme_spec.rollups)
    return _(
        "the scheme %(scheme)s is scored %(own)s and takes no %(cadence)s result: a roll-up "
        "level takes one only when it has a `self` part (its roll-ups: %(rollups)s)"
    ) % {
        "scheme": scheme.name,
        "own": cadence_label(scheme.cadence),
        "cadence": cadence_label(cadence),
        "rollups": rollups or _("none"),
    }


def _known_tracks(scheme: Scheme, scheme_spec, region: Region) -> set[str]:
    """The scheme's variants and the tracks its subjects in `region` have."""
    used = (
        Subject.objects.filter(subtree_q("region__code", region.code), kind=scheme.subject_kind)
        .exclude(track="")
        .values_list("track", flat=True)
        .distinct()
    )
    return set(scheme_spec.variants) | set(used)


def _kept(plan: Plan, new: PlanSpec, scheme: Scheme) -> Iterable[tuple[DataPath, str]]:
    """What a new version must keep of the campaigns that have rounds."""
    with_rounds = set(Round.objects.filter(plan=plan).values_list("campaign", flat=True).distinct())
    if not with_rounds:
        return
    if scheme.pk != plan.scheme_id:
        yield (
            ("scheme",),
            _("the scheme must stay %(code)s: the plan has rounds") % {"code": plan.scheme.code},
        )
    old = spec_of(plan.spec)
    position = {c.code: i for i, c in enumerate(new.campaigns)}
    for campaign in old.campaigns:
        if campaign.code not in with_rounds:
            continue
        i = position.get(campaign.code)
        if i is None:
            yield (
                ("campaigns",),
                _("the campaign %(code)s %(name)s cannot be removed: it has rounds")
                % {"code": campaign.code, "name": campaign.name},
            )
            continue
        changed = new.campaigns[i]
        for key in ("raters", "cadence", "item"):
            before, after = getattr(campaign, key), getattr(changed, key)
            if str(before) != str(after):
                yield (
                    ("campaigns", i, key),
                    _("%(key)s must stay %(value)s: the campaign %(code)s %(name)s has rounds")
                    % {
                        "key": key,
                        "value": before,
                        "code": campaign.code,
                        "name": campaign.name,
                    },
                )
