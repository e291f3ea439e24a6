"""Inspection draws and their results (随机抽查), and the figures they give before a close.

`draw_make` draws a unit's sub-units for one sampled item and period from a seed it records;
`results_record` keeps what the inspector found at each drawn one; `inspections_push` (a
`before_close` hook) turns the results into the item's metric. The rule (how many, which ones,
the figure) is `kaoping.schemes.sampling`'s; an auditor replays it from the draw's page.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import Refused, ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import MetricValue, SealedSpan
from kaoping.ledger.services import metric_values_put
from kaoping.people.models import Subject
from kaoping.schemes.calendar import period_dates
from kaoping.schemes.sampling import draw_members, sample_figure, sample_size, sampled_items

from .models import Draw, DrawResult
from .selectors import may_inspect, sampled_item, sub_unit_numbers

SEED_BYTES = 16  # 32 hex digits


def _sealed(draw_scheme, label: str, cadence: str) -> bool:
    start, end = period_dates(cadence, label)
    return SealedSpan.objects.filter(scheme=draw_scheme, start__lte=end, end__gte=start).exists()


def draw_make(
    *, scheme, period_label: str, subject: Subject, item_code: str, acting_user, seed: str = ""
) -> Draw:
    """The draw of `subject`'s sub-units for the sampled item `item_code` of `scheme` in
    `period_label`: the one already made, or a new one from `seed` (drawn with `secrets` when
    not given; tests and an auditor's replay give one). A draw is never made again: the seed,
    the sub-units as they stood and the members stay as drawn."""
    ensure(acting_user, "entry.record", subject)
    version = scheme.latest_version()
    spec = version.spec()
    item = sampled_item(spec, item_code)
    if subject.kind != spec.subject_kind.value:
        raise KaopingError(_("This scheme does not score %(name)s.") % {"name": subject.name})
    if not may_inspect(acting_user, subject, spec, item):
        raise Refused(_("An inspection is made from above the place it inspects."))
    try:
        period_dates(spec.cadence.value, period_label)
    except ValueError as error:
        raise KaopingError(str(error)) from error
    if _sealed(scheme, period_label, spec.cadence.value):
        raise KaopingError(
            _("%(label)s is final; nothing more is drawn in it.") % {"label": period_label}
        )
    existing = Draw.objects.filter(
        scheme=scheme, period_label=period_label, subject=subject, item_code=item_code
    ).first()
    if existing is not None:
        return existing
    sample = item.sample
    numbers = sub_unit_numbers(subject, sample.of.value)
    if not numbers:
        raise KaopingError(
            _("%(name)s has no %(of)s to draw from.")
            % {"name": subject.name, "of": sample.of.value}
        )
    seed = seed or secrets.token_hex(SEED_BYTES)
    size = sample_size(sample, len(numbers))
    draw = Draw(
        scheme=scheme,
        period_label=period_label,
        subject=subject,
        item_code=item_code,
        of=sample.of.value,
        rule=sample.model_dump(mode="json", by_alias=True, exclude_none=True),
        seed=seed,
        population=numbers,
        size=size,
        members=draw_members(seed, numbers, size),
        drawn_by=acting_user,
    )
    try:
        with transaction.atomic():
            draw.save()
            audit_record(
                actor=acting_user,
                action="inspection.draw.made",
                obj=draw,
                region_code=subject.region.code,
                after={
                    "seed": seed,
                    "population": len(numbers),
                    "size": size,
                    "members": draw.members,
                },
            )
    except IntegrityError:
        # Two inspectors drew at once: the first draw stands.
        return Draw.objects.get(
            scheme=scheme, period_label=period_label, subject=subject, item_code=item_code
        )
    return draw


def results_record(*, draw: Draw, results: dict[str, tuple[str, str]], acting_user) -> int:
    """Keep what was found at drawn sub-units: member number → (level, note); a blank level
    leaves that member as it was. A number outside the draw or a level the item does not have
    is refused, naming it, and nothing is written. Returns how many results changed."""
    ensure(acting_user, "entry.record", draw.subject)
    spec = draw.scheme.latest_version().spec()
    item = sampled_item(spec, draw.item_code)
    if not may_inspect(acting_user, draw.subject, spec, item):
        raise Refused(_("An inspection is made from above the place it inspects."))
    if _sealed(draw.scheme, draw.period_label, spec.cadence.value):
        raise KaopingError(
            _("%(label)s is final; its results are no longer changed.")
            % {"label": draw.period_label}
        )
    drawn = set(draw.members)
    errors = {}
    for member, (level, _note) in results.items():
        if member not in drawn:
            errors[f"m_{member}"] = _("%(number)s was not drawn.") % {"number": member}
        elif level and level not in item.sample.levels:
            errors[f"m_{member}"] = _("“%(level)s” is not one of %(levels)s.") % {
                "level": level,
                "levels": "、".join(item.sample.levels),
            }
    if errors:
        raise KaopingError(errors)
    changed = {}
    with transaction.atomic():
        current = {r.member: r for r in DrawResult.objects.select_for_update().filter(draw=draw)}
        for member, (level, note) in results.items():
            if not level:
                continue
            row = current.get(member)
            if row is not None and (row.level, row.note) == (level, note):
                continue
            before = row.level if row is not None else ""
            DrawResult.objects.update_or_create(
                draw=draw,
                member=member,
                defaults={"level": level, "note": note, "recorded_by": acting_user},
            )
            changed[member] = (before, level)
        if changed:
            audit_record(
                actor=acting_user,
                action="inspection.results.recorded",
                obj=draw,
                region_code=draw.subject.region.code,
                before={m: old for m, (old, _new) in changed.items() if old},
                after={m: new for m, (_old, new) in changed.items()},
            )
    return len(changed)


def inspections_push(period, spec, acting_user) -> int:
    """`settings.PERIOD_HOOKS["before_close"]`: the figure of every unit with results for each
    sampled item of `period`'s scheme (joins the close's transaction). The figures are this
    module's, so they replace whatever stood: a unit without a recorded result has none, and
    the scheme's `no_data` decides. A draw not yet complete counts the results recorded (the
    close page says which). Nothing is pushed over a posted or final period."""
    ensure(acting_user, "period.close", period)
    if period.status in ("posted", "final"):
        return 0
    items = {item.code: item for item in sampled_items(spec)}
    if not items:
        return 0
    labels: dict[tuple[int, str], list[str]] = {}
    for _draw, subject_id, code, level in DrawResult.objects.filter(
        draw__scheme_id=period.scheme_id,
        draw__period_label=period.label,
        draw__item_code__in=list(items),
    ).values_list("draw_id", "draw__subject_id", "draw__item_code", "level"):
        labels.setdefault((subject_id, code), []).append(level)
    values = []
    for (subject_id, code), found in labels.items():
        figure = sample_figure(items[code].sample, found)
        if figure is not None:
            values.append((Subject(pk=subject_id), items[code].metric, figure))
    metrics = sorted({item.metric for item in items.values()})
    with transaction.atomic():
        MetricValue.objects.filter(
            scheme_id=period.scheme_id, period_label=period.label, metric__in=metrics
        ).delete()
        pushed = metric_values_put(scheme=period.scheme, period_label=period.label, values=values)
        audit_record(
            actor=acting_user,
            action="inspection.figures.pushed",
            obj=period,
            region_code=period.scheme.region.code,
            after={"metrics": metrics, "subjects": len(values)},
        )
    return pushed
