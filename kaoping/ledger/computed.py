"""Entries the system records itself, for count items that say `from_metric` in their scheme.

For a period, every subject whose metric value lies in the item's interval gets one approved
entry dated in the period (idempotency key per period, item and subject, so running again adds
nothing); an earlier computed entry whose subject no longer qualifies is reversed.
"""

from django.db import connection
from django.utils import timezone

from kaoping.accounts.scoping import ensure
from kaoping.people.models import Subject
from kaoping.schemes.models import SchemeBand, SchemeNode

from .models import Entry, EntrySource, EntryStatus, MetricValue
from .services import AUDIT_BY_CALLER, EntryDraft, Recorder, entries_write, reversal_of


def _in_band(queryset, band: SchemeBand):
    value = "value_scaled"
    if band.lo is not None:
        queryset = queryset.filter(
            **{f"{value}__gte" if band.lo_inclusive else f"{value}__gt": band.lo}
        )
    if band.hi is not None:
        queryset = queryset.filter(
            **{f"{value}__lte" if band.hi_inclusive else f"{value}__lt": band.hi}
        )
    return queryset


def entries_compute(*, period, acting_user) -> dict[str, int]:
    """Write the period's computed entries; runs inside the caller's transaction (the close)."""
    ensure(acting_user, "period.close", period)
    assert connection.in_atomic_block, (
        "entries_compute writes several rows: call it inside a transaction"
    )
    # Every tree's: an overlay's item is in its region's trees only (the recorder below keeps
    # the subjects it applies to); the same code has the same band in every tree.
    nodes = list(
        {
            n.code: n
            for n in SchemeNode.objects.filter(
                version=period.version, is_item=True, aggregate="sum"
            )
            .exclude(metric="")
            .order_by("-variant")
        }.values()
    )
    counts = {"created": 0, "reversed": 0}
    if not nodes:
        return counts
    recorder = Recorder(scheme=period.scheme, acting_user=acting_user, source=EntrySource.COMPUTED)
    day = min(period.end, timezone.localdate())
    for node in nodes:
        band = SchemeBand.objects.get(
            version=period.version, variant=node.variant, item_code=node.code
        )
        qualifying = set(
            _in_band(
                MetricValue.objects.filter(
                    scheme_id=period.scheme_id, period_label=period.label, metric=node.metric
                ),
                band,
            ).values_list("subject_id", flat=True)
        )
        prefix = f"computed:{period.pk}:{node.code}:"
        existing = {
            e.subject_id: e
            for e in Entry.objects.filter(
                idempotency_key__startswith=prefix, status=EntryStatus.APPROVED, sign=1
            )
            .select_related("subject__region")
            .exclude(reversals__isnull=False)
        }
        new_ids = sorted(qualifying - set(existing))
        for start in range(0, len(new_ids), 2000):
            subjects = Subject.objects.filter(pk__in=new_ids[start : start + 2000]).select_related(
                "region"
            )
            drafts = [
                EntryDraft(
                    subject=s,
                    item_code=node.code,
                    occurred_on=day,
                    idempotency_key=f"{prefix}{s.pk}",
                )
                for s in subjects
                if recorder.item(s, node.code) is not None  # a variant may exclude the item
            ]
            counts["created"] += len(
                entries_write(
                    entries=[recorder.build(d) for d in drafts],
                    acting_user=acting_user,
                    recorder=recorder,
                    audit=AUDIT_BY_CALLER,  # the close's own audit row covers them
                )
            )
        gone = [e for subject_id, e in existing.items() if subject_id not in qualifying]
        if gone:
            reversals = [
                reversal_of(e, reason="指标已不满足条件", acting_user=acting_user) for e in gone
            ]
            entries_write(entries=reversals, acting_user=acting_user, audit=AUDIT_BY_CALLER)
            counts["reversed"] += len(reversals)
    return counts
