from datetime import date

import pytest

from kaoping.ledger.services import entries_review, entry_record, entry_reverse
from kaoping.ledger.signals import entries_approved
from kaoping.ledger.tests.ledger_fixture import add_reviewer, load_household_scheme
from kaoping.people.models import Subject

pytestmark = pytest.mark.django_db(transaction=True)


def test_approvals_are_announced_after_commit(county):
    scheme = load_household_scheme(county)
    add_reviewer(county)
    heard = []

    def receiver(sender, entry_ids, **kwargs):
        heard.append(list(entry_ids))

    entries_approved.connect(receiver)
    try:
        subject = Subject.objects.filter(kind="household").first()
        entry, _ = entry_record(
            scheme=scheme,
            subject=subject,
            item_code="CLEAN",
            occurred_on=date(2026, 3, 5),
            acting_user=county.users["dave"],
            source="collected",
        )
        assert heard == []  # submitted entries do not count yet
        entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["rita"])
        assert heard == [[entry.pk]]
        entry.refresh_from_db()
        reversal = entry_reverse(entry=entry, reason="错录", acting_user=county.users["rita"])
        assert heard[-1] == [reversal.pk]
    finally:
        entries_approved.disconnect(receiver)


def test_a_failing_receiver_does_not_fail_the_committed_write(county, caplog):
    scheme = load_household_scheme(county)
    add_reviewer(county)

    def broken(sender, entry_ids, **kwargs):
        raise RuntimeError("receiver down")

    entries_approved.connect(broken)
    try:
        subject = Subject.objects.filter(kind="household").first()
        entry, _ = entry_record(
            scheme=scheme,
            subject=subject,
            item_code="CLEAN",
            occurred_on=date(2026, 3, 5),
            acting_user=county.users["dave"],
            source="collected",
        )
        outcomes = entries_review(
            entry_ids=[entry.pk], decision="approve", acting_user=county.users["rita"]
        )
        assert outcomes[0].outcome == "approved"
        assert "receiver down" in caplog.text
    finally:
        entries_approved.disconnect(broken)
