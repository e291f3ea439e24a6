"""Writes of the inbox: deliver messages (reports, reminders, notices) and mark them read.

Other apps call `messages_deliver` with the logins `recipients_for` finds; the inbox sits just
above accounts, so it knows logins and their role assignments and nothing of what the message
is about. Who may deliver: jobs as the system actor to anyone; a person to themselves and to the
logins of their area (`login.view`, as the login pages show them).
"""

import logging
import os
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from kaoping.accounts.models import RoleAssignment
from kaoping.accounts.scoping import Refused, is_unrestricted
from kaoping.accounts.selectors import logins_for
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import ancestor_codes, subtree_q

from .models import Message

log = logging.getLogger(__name__)

DIRECTIONS = ("covering", "within")
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024


def _may_deliver(acting_user, recipient_ids: set[int]) -> bool:
    if is_unrestricted(acting_user):
        return True
    if acting_user is None or not acting_user.is_authenticated or not acting_user.is_active:
        return False
    others = recipient_ids - {acting_user.pk}
    if not others:
        return True
    reachable = logins_for(acting_user).filter(pk__in=others).count()
    return reachable == len(others)


def messages_deliver(
    *,
    recipients: Iterable,
    title: str,
    kind: str,
    body: str = "",
    url: str = "",
    attachment: tuple[str, bytes] | None = None,
    dedupe_key: str = "",
    acting_user,
) -> int:
    """Deliver one message to each of `recipients` (logins or their ids); the number newly
    delivered.

    With a `dedupe_key`, a recipient who already has a message of that key gets nothing: the
    caller may send again (a job run twice, a retry) and nobody reads the same thing twice.
    Everything is one transaction; each newly delivered message is e-mailed once it commits, to
    recipients with an address, when an outgoing mail server is configured (EMAIL_HOST).
    `attachment` is (file name, content), stored once and shared by the messages.
    """
    recipient_ids = {getattr(r, "pk", r) for r in recipients}
    if not _may_deliver(acting_user, recipient_ids):
        raise Refused()
    title = (title or "").strip()
    if not title:
        raise KaopingError({"title": _("A message needs a title.")})
    if len(title) > Message._meta.get_field("title").max_length:
        raise KaopingError({"title": _("The title of a message is too long.")})
    if len(url) > Message._meta.get_field("url").max_length:
        raise KaopingError({"url": _("The link of a message is too long.")})
    if len(dedupe_key) > Message._meta.get_field("dedupe_key").max_length:
        raise KaopingError({"dedupe_key": _("The dedupe key of a message is too long.")})
    if attachment is not None and len(attachment[1]) > ATTACHMENT_MAX_BYTES:
        raise KaopingError({"attachment": _("The attachment of a message is too large.")})
    if not recipient_ids:
        return 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                created = _insert(recipient_ids, title, kind, body, url, attachment, dedupe_key)
        except IntegrityError:
            # Someone delivered the same key to one of them meanwhile: what is there now counts.
            created = _insert(recipient_ids, title, kind, body, url, attachment, dedupe_key)
        if created:
            audit_record(
                actor=acting_user,
                action="inbox.messages.delivered",
                object_repr=title,
                # The kind and key are codes for programs; people read the title and the count.
                after={"count": len(created)},
            )
            if getattr(settings, "EMAIL_HOST", ""):
                ids = [message.pk for message in created]
                transaction.on_commit(lambda: _email(ids))
    return len(created)


def _insert(recipient_ids, title, kind, body, url, attachment, dedupe_key) -> list[Message]:
    users = get_user_model().objects.filter(pk__in=recipient_ids, is_active=True)
    if dedupe_key:
        users = users.exclude(inbox_messages__dedupe_key=dedupe_key)
    ids = sorted(users.values_list("pk", flat=True))
    if not ids:
        return []
    stored = ""
    name = ""
    if attachment is not None:
        try:
            name = get_valid_filename(attachment[0])
        except SuspiciousFileOperation:  # "", ".", ".."
            name = "attachment"
        stem, extension = os.path.splitext(name)
        name = stem[:80] + extension[:12]  # the stored path fits its column
        field = Message._meta.get_field("attachment")
        stored = field.storage.save(field.generate_filename(None, name), ContentFile(attachment[1]))
        name = attachment[0][: Message._meta.get_field("attachment_name").max_length]
    now = timezone.now()
    rows = [
        Message(
            recipient_id=pk,
            kind=kind,
            title=title,
            body=body,
            url=url,
            attachment=stored,
            attachment_name=name,
            created_at=now,
            dedupe_key=dedupe_key,
        )
        for pk in ids
    ]
    Message.objects.bulk_create(rows)
    if rows and rows[0].pk is None:  # a backend that does not return ids from a bulk insert
        rows = list(Message.objects.filter(recipient_id__in=ids, created_at=now, kind=kind))
    return rows


def _email(message_ids: list[int]) -> None:
    """Send each message to its recipient's address; a failure is logged, never raised: the
    message is in the inbox either way."""
    for message in Message.objects.filter(pk__in=message_ids).select_related("recipient"):
        address = message.recipient.email
        if not address:
            continue
        body = message.body
        if message.url:
            body = f"{body}\n\n{message.url}".strip()
        mail = EmailMessage(subject=message.title, body=body, to=[address])
        if message.attachment:
            try:
                with message.attachment.open("rb") as handle:
                    mail.attach(message.attachment_name or "attachment", handle.read())
            except OSError:
                log.exception("inbox: attachment of message %s unreadable", message.pk)
        try:
            mail.send()
        except Exception:  # the mail server is someone else's: log and go on
            log.exception("inbox: e-mail of message %s to %s failed", message.pk, address)


def recipients_for(*, roles: list[str], region, direction: str = "covering") -> list:
    """The active logins holding one of `roles` for `region` (a Region or its code).

    "covering": anchored at the region or above it (who oversees it: the township and county
    admins of a village); "within": anchored anywhere inside its subtree (who works in it: the
    secretaries of a township's villages). A department scorer counts through its department's
    villages. Ordered by id, each login once.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    code = getattr(region, "code", region)
    if direction == "covering":
        codes = [*ancestor_codes(code), code]
        where = models.Q(region__code__in=codes, department__isnull=True) | models.Q(
            department__villages__code__in=codes
        )
    else:
        where = (subtree_q("region__code", code) & models.Q(department__isnull=True)) | (
            subtree_q("department__villages__code", code)
        )
    held = RoleAssignment.objects.filter(where, role__in=list(roles))
    return list(
        get_user_model()
        .objects.filter(pk__in=held.values("user_id"), is_active=True)
        .exclude(username="kaoping-system")
        .order_by("pk")
    )


def message_mark_read(*, message, acting_user) -> bool:
    """Mark the recipient's own message read; whether it was unread. Nobody else may."""
    if (
        acting_user is None
        or not acting_user.is_authenticated
        or not acting_user.is_active
        or message.recipient_id != acting_user.pk
    ):
        raise Refused()
    with transaction.atomic():
        now = timezone.now()
        changed = Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
        if changed:
            message.read_at = now
    return bool(changed)
