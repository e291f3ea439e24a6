"""Property test: the explanation of a closed period is what its close used.

The close packs every node's value into its results' breakdowns (kaoping.periods.breakdown).
For random ledgers closed and then changed — entries recorded after the close, and review
decisions on the entries that were there (approved ones rejected, waiting ones approved) — the
explanation page's tree still equals the reference evaluation of the ledger as it stood at the
close, and the entries recorded or decided since are marked as not counted.
"""

import pytest
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry
from kaoping.periods.models import Result
from kaoping.periods.selectors import explain
from kaoping.periods.services import period_close, period_open

from .close_harness import (
    LABELS,
    build_world,
    check_close,
    dates_of,
    ledgers,
    rolled_back,
    shipped_text,
    without_data,
    write_ledger,
)
from .test_close_properties import PROPERTY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("filename", ["household-points.yaml", "qianfen-team.yaml"])
def test_the_explanation_is_what_the_close_used(filename):
    world = build_world(shipped_text(filename), filename)
    spec = world.spec
    label = LABELS[str(spec.cadence)][0]
    start, end = dates_of(str(spec.cadence), label)
    writers = len(world.writers)

    @PROPERTY
    @given(data=st.data())
    def example(data):
        with rolled_back():
            before = data.draw(ledgers(spec, writers, start, end))
            after = data.draw(ledgers(spec, writers, start, end))
            period = period_open(scheme=world.scheme, label=label, acting_user=system_actor())
            write_ledger(world, before)
            assume(not (str(spec.no_data) == "block" and without_data(world, period, before)))
            period_close(period=period, acting_user=system_actor())
            checked = check_close(world, period, before)
            existing = list(Entry.objects.filter(scheme=world.scheme).values_list("pk", "status"))

            # After the close: new entries, and decisions on the ones the close read.
            write_ledger(world, after)
            decided = (
                data.draw(st.sets(st.sampled_from(existing), max_size=8)) if existing else set()
            )
            for pk, status in decided:
                Entry.objects.filter(pk=pk).update(
                    status="rejected" if status == "approved" else "approved",
                    reviewed_at=timezone.now(),
                )
            decided_pks = {pk for pk, _status in decided}
            new_pks = set(
                Entry.objects.filter(scheme=world.scheme).values_list("pk", flat=True)
            ) - {pk for pk, _status in existing}

            period.refresh_from_db()
            for result in Result.objects.filter(period=period).select_related("subject"):
                shown = explain(period, result)
                ev = checked.evaluations[result.subject_id]
                values = {n.node.code: n.value for n in shown["nodes"]}
                assert values == {code: ev.values[code] for code in values}, result.subject.name
                assert shown["total"] == ev.total
                for n in shown["nodes"]:
                    for entry in n.entries:
                        expected = entry.pk in new_pks or entry.pk in decided_pks
                        assert entry.after_close == expected, (entry.pk, entry.status)

    example()
