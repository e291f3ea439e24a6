"""The audit log is hash-chained per county: an edited or deleted row is found."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kaoping.core.audit import audit_record, audit_verify
from kaoping.core.models import AuditChain, AuditLog

pytestmark = pytest.mark.django_db


def sql(statement, *params):
    with connection.cursor() as cursor:  # someone edits the database by hand
        cursor.execute(statement, list(params))


def write(n=3, region="330304001001", **after):
    return [
        audit_record(
            actor=None,
            action="test.write",
            region_code=region,
            before={"n": i, "数": "一"},
            after={"status": "approved", "points": 1.5, **after},
        )
        for i in range(n)
    ]


def test_rows_chain_per_county_and_verify():
    rows = write(3) + write(2, region="330305001") + write(1, region="")
    assert list(audit_verify()) == []
    call_command("audit", "verify")
    assert dict(AuditChain.objects.values_list("key", "length")) == {
        "330304": 3,
        "330305": 2,
        "": 1,
    }
    assert [r.chain_seq for r in rows] == [1, 2, 3, 1, 2, 1]
    # As stored and read back, every row still matches its hash.
    assert all(r.chain_hash for r in AuditLog.objects.all())


def test_an_edited_row_is_reported():
    rows = write(3)
    sql(
        "UPDATE core_auditlog SET after = %s WHERE id = %s",
        '{"status": "rejected", "points": 1.5}',
        rows[1].pk,
    )
    problems = list(audit_verify())
    assert [(p.chain, p.row_id) for p in problems] == [("330304", rows[1].pk)]
    assert "edited" in problems[0].message
    with pytest.raises(CommandError, match=f"row {rows[1].pk}"):
        call_command("audit", "verify")


def test_an_edited_actor_or_action_is_reported():
    rows = write(2)
    sql("UPDATE core_auditlog SET action = 'test.other' WHERE id = %s", rows[0].pk)
    assert [p.row_id for p in audit_verify()] == [rows[0].pk]


def test_a_deleted_row_is_reported_in_the_middle_or_at_the_end():
    rows = write(4)
    sql("DELETE FROM core_auditlog WHERE id = %s", rows[3].pk)
    problems = list(audit_verify())
    assert [(p.chain, p.row_id) for p in problems] == [("330304", None)]
    sql("DELETE FROM core_auditlog WHERE id = %s", rows[1].pk)
    problems = list(audit_verify())
    assert [(p.chain, p.row_id) for p in problems] == [("330304", rows[2].pk)]
    assert "deleted" in problems[0].message


def test_every_row_of_a_chain_deleted_is_reported():
    write(2, region="330305001")
    sql("DELETE FROM core_auditlog")
    assert [p.chain for p in audit_verify()] == ["330305"]


def test_a_row_inserted_around_audit_record_is_reported():
    write(1)
    sneaked = AuditLog.objects.create(action="test.sneaked", object_type="", region_code="330304")
    assert [p.row_id for p in audit_verify()] == [sneaked.pk]
