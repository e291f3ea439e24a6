import pytest
from django.core import mail

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.models import AuditLog
from kaoping.inbox.models import Message
from kaoping.inbox.services import message_mark_read, messages_deliver, recipients_for

pytestmark = pytest.mark.django_db


def names(users):
    return sorted(user.username for user in users)


def test_deliver_is_idempotent_per_recipient_and_key(county):
    bob, carol = county.users["bob"], county.users["carol"]
    sent = messages_deliver(
        recipients=[bob, carol],
        title="三月月报",
        kind="report-monthly",
        body="见附件",
        url="/reports/",
        attachment=("三月月报.xlsx", b"PK\x03\x04data"),
        dedupe_key="report:2026-03",
        acting_user=system_actor(),
    )
    assert sent == 2
    again = messages_deliver(
        recipients=[bob, carol, county.users["oscar"]],
        title="三月月报",
        kind="report-monthly",
        dedupe_key="report:2026-03",
        acting_user=system_actor(),
    )
    assert again == 1  # oscar alone is new
    assert Message.objects.filter(dedupe_key="report:2026-03").count() == 3
    message = Message.objects.get(recipient=bob)
    assert message.attachment_name == "三月月报.xlsx"
    assert message.attachment.read() == b"PK\x03\x04data"
    assert AuditLog.objects.filter(action="inbox.messages.delivered").count() == 2
    # Without a key, every delivery is a new message.
    for _ in range(2):
        messages_deliver(recipients=[bob], title="提醒", kind="notice", acting_user=system_actor())
    assert Message.objects.filter(recipient=bob, kind="notice").count() == 2


def test_inactive_recipients_get_nothing(county):
    carol = county.users["carol"]
    carol.is_active = False
    carol.save()
    assert (
        messages_deliver(recipients=[carol], title="x", kind="notice", acting_user=system_actor())
        == 0
    )


def test_no_email_without_a_mail_server(county, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_HOST = ""
    bob = county.users["bob"]
    bob.email = "bob@example.org"
    bob.save()
    with django_capture_on_commit_callbacks(execute=True):
        messages_deliver(recipients=[bob], title="甲", kind="notice", acting_user=system_actor())
    assert mail.outbox == []


def test_email_goes_out_after_commit(county, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_HOST = "smtp.example.org"
    bob = county.users["bob"]
    bob.email = "bob@example.org"
    bob.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        messages_deliver(
            recipients=[bob, county.users["carol"]],
            title="乙",
            kind="notice",
            url="/inbox/",
            dedupe_key="k",
            acting_user=system_actor(),
        )
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert mail.outbox[0].subject == "乙"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        messages_deliver(
            recipients=[bob], title="乙", kind="notice", dedupe_key="k", acting_user=system_actor()
        )
    assert callbacks == []  # nothing new, nothing mailed
    assert len(mail.outbox) == 1


def test_recipients_covering_a_village(county):
    village = county.region("330304002001")  # 西溪村: township B, and grace's department
    found = recipients_for(
        roles=["county_admin", "township_staff", "department_scorer", "village_secretary"],
        region=village,
    )
    assert names(found) == ["alice", "grace", "oscar"]  # bob's township is the other one
    grid = county.region("330304001001001")
    assert names(recipients_for(roles=["township_staff", "village_secretary"], region=grid)) == [
        "bob",
        "carol",
    ]


def test_recipients_within_a_township(county):
    township = county.region("330304001")
    found = recipients_for(
        roles=["village_secretary", "grid_member", "department_scorer", "county_admin"],
        region=township,
        direction="within",
    )
    # alice is above the township, not inside; grace scores 南山社区 inside it.
    assert names(found) == ["carol", "dave", "grace"]
    assert names(
        recipients_for(roles=["village_secretary"], region="330304", direction="within")
    ) == [
        "carol",
        "oscar",
    ]
    with pytest.raises(ValueError):
        recipients_for(roles=["village_secretary"], region=township, direction="down")


def test_who_may_deliver(county):
    alice, bob, carol = (county.users[n] for n in ("alice", "bob", "carol"))
    # A county admin reaches the logins of the county; a township admin not the county admin.
    assert messages_deliver(recipients=[bob, carol], title="t", kind="n", acting_user=alice) == 2
    with pytest.raises(Refused):
        messages_deliver(recipients=[alice], title="t", kind="n", acting_user=bob)
    # A secretary may note something for themselves, but not for the others.
    assert messages_deliver(recipients=[carol], title="t", kind="n", acting_user=carol) == 1
    with pytest.raises(Refused):
        messages_deliver(recipients=[bob], title="t", kind="n", acting_user=carol)
    assert Message.objects.filter(recipient=alice).count() == 0


def test_only_the_recipient_marks_read(county):
    bob, carol = county.users["bob"], county.users["carol"]
    messages_deliver(recipients=[bob], title="t", kind="n", acting_user=system_actor())
    message = Message.objects.get(recipient=bob)
    with pytest.raises(Refused):
        message_mark_read(message=message, acting_user=carol)
    message.refresh_from_db()
    assert message.read_at is None
    assert message_mark_read(message=message, acting_user=bob) is True
    assert message_mark_read(message=message, acting_user=bob) is False
    message.refresh_from_db()
    assert message.read_at is not None


def test_attachment_names_are_made_safe(county):
    bob = county.users["bob"]
    for given in ("..", "../../etc/passwd", "报" * 300 + ".xlsx"):
        messages_deliver(
            recipients=[bob],
            title="附件",
            kind="notice",
            attachment=(given, b"x"),
            acting_user=system_actor(),
        )
    stored = list(
        Message.objects.filter(recipient=bob).order_by("pk").values_list("attachment", flat=True)
    )
    assert all(name.startswith("inbox/") and "/" not in name[6:] for name in stored)
    assert all(len(name) <= 300 for name in stored)
    assert stored[-1].endswith(".xlsx")
