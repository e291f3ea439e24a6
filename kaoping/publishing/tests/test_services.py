"""Objections: filing with rate limits, decisions corrected through the ledger, the finalise gate."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.ledger.services import EntryDraft
from kaoping.periods.models import ListMembership, Period, Result
from kaoping.periods.services import period_finalise
from kaoping.publishing import services
from kaoping.publishing.models import Objection, ObjectionStatus
from kaoping.publishing.services import (
    ObjectionThrottled,
    objection_decide,
    objection_file,
    objection_reclose,
)

from .fixtures import posted_quarter

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(county):
    return posted_quarter(county)


def file(posted, subject_name="西溪村", address="10.0.0.1", **extra):
    return objection_file(
        period=posted.period,
        subject=posted.villages[subject_name] if subject_name else None,
        name="陈小明",
        contact="13800001234",
        reason="暗访扣分时我村已整改完毕，扣分有误。",
        address=address,
        **extra,
    )


def members(period, code):
    return sorted(
        ListMembership.objects.filter(period=period, list_code=code).values_list(
            "subject__name", flat=True
        )
    )


def total(posted, name):
    result = Result.objects.get(period=posted.period, subject=posted.villages[name])
    return posted.period.version.to_points(result.total)


def correction(posted, name="西溪村", item="BL1", quantity="11"):
    return EntryDraft(
        subject=posted.villages[name],
        item_code=item,
        occurred_on=date(2026, 8, 20),
        quantity=quantity,
    )


def test_the_fixture_lists(posted):
    assert members(posted.period, "red") == ["东岭村", "南山社区"]
    assert members(posted.period, "black") == ["西溪村"]
    assert members(posted.period, "progress") == ["溪口村"]


def test_filing_stores_scope_and_keeps_personal_data_out_of_the_audit_log(posted, county):
    objection = file(posted)
    assert objection.status == ObjectionStatus.SUBMITTED
    assert objection.region_code == "330304002001"
    assert objection.address_hash and "10.0.0.1" not in objection.address_hash
    general = file(posted, subject_name=None, address="10.0.0.2")
    assert general.region_code == "330304"  # county-level without a subject
    row = AuditLog.objects.get(action="publishing.objection.filed", object_id=str(objection.pk))
    assert "陈小明" not in str(row.after) and "13800001234" not in str(row.after)


def test_sixth_objection_within_the_hour_from_one_address_is_refused(posted):
    for _ in range(5):
        file(posted)
    with pytest.raises(ObjectionThrottled):
        file(posted)
    assert Objection.objects.count() == 5
    file(posted, address="10.0.0.9")  # another address is not held up
    assert Objection.objects.count() == 6


def test_the_period_limit_guards_against_a_flood(posted, settings):
    settings.OBJECTION_MAX_PER_PERIOD = 2
    file(posted, address="a")
    file(posted, address="b")
    with pytest.raises(ObjectionThrottled):
        file(posted, address="c")


def test_objections_only_while_posted_and_in_the_window(posted, county):
    late = posted.period.objection_deadline + timedelta(minutes=1)
    with pytest.raises(KaopingError, match="不再受理"):
        file(posted, now=late)
    previous = posted.previous  # closed, never posted
    with pytest.raises(KaopingError):
        objection_file(
            period=previous,
            name="甲",
            contact="1",
            reason="五个字以上的理由",
            address="x",
        )
    with pytest.raises(KaopingError) as caught:
        objection_file(period=posted.period, name=" ", contact="", reason="短", address="y")
    assert set(caught.value.message_dict) == {"name", "contact", "reason"}


def test_upheld_with_a_correcting_entry_recloses_and_moves_the_lists(posted, county):
    alice = county.users["alice"]
    objection = file(posted)
    outcome = objection_decide(
        objection=objection,
        decision="uphold",
        text="经核实，西溪村组织生活记录漏录，补记 11 次。",
        acting_user=alice,
        corrections=[correction(posted)],
    )
    objection = outcome.objection
    assert outcome.close_problem == ""
    assert objection.status == ObjectionStatus.UPHELD and objection.applied_at is not None
    assert objection.decided_by == alice and objection.decided_at
    assert total(posted, "西溪村") == 32
    assert members(posted.period, "red") == ["东岭村", "西溪村"]
    assert members(posted.period, "black") == ["北山村"]
    assert Period.objects.get(pk=posted.period.pk).status == "posted"  # still posted
    entry = Entry.objects.get(pk=objection.corrections["recorded"][0])
    # The scheme does not auto-approve console entries: the decision is the correction's review.
    assert entry.status == EntryStatus.APPROVED and entry.reviewed_by == alice
    assert f"#{objection.pk}" in entry.note
    assert AuditLog.objects.filter(
        action="publishing.objection.upheld", object_id=str(objection.pk)
    ).exists()
    assert AuditLog.objects.filter(action="ledger.entry.recorded", object_id=str(entry.pk)).exists()


def test_upheld_with_a_reversal(posted, county):
    wrong = Entry.objects.get(subject=posted.villages["西溪村"], item_code="HJ1")
    objection = file(posted)
    outcome = objection_decide(
        objection=objection,
        decision="uphold",
        text="暗访扣分记错了村，予以冲正。",
        acting_user=county.users["alice"],
        reverse_entry_ids=[wrong.pk],
    )
    assert total(posted, "西溪村") == 20
    reversal = Entry.objects.get(reverses=wrong)
    assert reversal.sign == -1 and reversal.status == EntryStatus.APPROVED
    assert outcome.objection.corrections["reversals"] == [reversal.pk]
    with pytest.raises(KaopingError):  # an entry is reversed once
        objection_decide(
            objection=file(posted, address="z"),
            decision="uphold",
            text="再冲正一次",
            acting_user=county.users["alice"],
            reverse_entry_ids=[wrong.pk],
        )


def test_dismissed_changes_nothing(posted, county):
    before = list(
        Result.objects.filter(period=posted.period).order_by("subject_id").values_list("total")
    )
    lists_before = list(
        ListMembership.objects.filter(period=posted.period)
        .order_by("list_code", "subject_id")
        .values_list("list_code", "subject_id")
    )
    entries = Entry.objects.count()
    outcome = objection_decide(
        objection=file(posted),
        decision="dismiss",
        text="经核实，扣分有据，不予采纳。",
        acting_user=county.users["alice"],
    )
    assert outcome.objection.status == ObjectionStatus.DISMISSED
    assert Entry.objects.count() == entries
    assert before == list(
        Result.objects.filter(period=posted.period).order_by("subject_id").values_list("total")
    )
    assert lists_before == list(
        ListMembership.objects.filter(period=posted.period)
        .order_by("list_code", "subject_id")
        .values_list("list_code", "subject_id")
    )


def test_decisions_are_checked(posted, county):
    alice = county.users["alice"]
    objection = file(posted)
    with pytest.raises(KaopingError):
        objection_decide(objection=objection, decision="uphold", text="属实", acting_user=alice)
    with pytest.raises(KaopingError):
        objection_decide(
            objection=objection,
            decision="dismiss",
            text="不属实",
            acting_user=alice,
            corrections=[correction(posted)],
        )
    with pytest.raises(KaopingError):
        objection_decide(objection=objection, decision="dismiss", text=" ", acting_user=alice)
    with pytest.raises(KaopingError):
        objection_decide(objection=objection, decision="approve", text="x", acting_user=alice)
    objection_decide(objection=objection, decision="dismiss", text="不属实", acting_user=alice)
    with pytest.raises(KaopingError, match="已经处理"):
        objection_decide(objection=objection, decision="dismiss", text="再来", acting_user=alice)


def test_only_county_admins_decide(posted, county):
    objection = file(posted, subject_name="东岭村")
    with pytest.raises(PermissionDenied):
        objection_decide(
            objection=objection, decision="dismiss", text="不属实", acting_user=county.users["bob"]
        )
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.SUBMITTED


def test_a_bad_correction_changes_nothing(posted, county):
    objection = file(posted)
    entries = Entry.objects.count()
    with pytest.raises(KaopingError):
        objection_decide(
            objection=objection,
            decision="uphold",
            text="补记",
            acting_user=county.users["alice"],
            corrections=[correction(posted, item="NOPE")],
        )
    with pytest.raises(KaopingError):  # dated outside the period
        objection_decide(
            objection=objection,
            decision="uphold",
            text="补记",
            acting_user=county.users["alice"],
            corrections=[
                EntryDraft(
                    subject=posted.villages["西溪村"], item_code="BL1", occurred_on=date(2026, 3, 1)
                )
            ],
        )
    assert Entry.objects.count() == entries
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.SUBMITTED


def test_a_failed_reclose_leaves_the_decision_and_can_be_retried(posted, county, monkeypatch):
    alice = county.users["alice"]

    def refuse(**kwargs):
        raise KaopingError("数据库忙")

    monkeypatch.setattr(services, "period_close", refuse)
    outcome = objection_decide(
        objection=file(posted),
        decision="uphold",
        text="补记",
        acting_user=alice,
        corrections=[correction(posted)],
    )
    assert outcome.close_problem == "数据库忙"
    assert outcome.objection.status == ObjectionStatus.UPHELD
    assert outcome.objection.applied_at is None
    assert total(posted, "西溪村") == 10  # the posting still shows the old results
    monkeypatch.undo()
    objection = objection_reclose(objection=outcome.objection, acting_user=alice)
    assert objection.applied_at is not None
    assert total(posted, "西溪村") == 32


def test_finalise_is_blocked_while_objections_are_undecided(posted, county):
    alice = county.users["alice"]
    objection = file(posted)
    after_window = posted.period.objection_deadline + timedelta(hours=1)
    with pytest.raises(KaopingError, match="1"):
        period_finalise(period=posted.period, acting_user=alice, now=after_window)
    objection_decide(objection=objection, decision="dismiss", text="不属实", acting_user=alice)
    period = period_finalise(period=posted.period, acting_user=alice, now=after_window)
    assert period.status == "final"
