"""Reads of the inbox: a login's own messages. A message is its recipient's alone, so the
chokepoint here is the recipient, not the region scope (the county admin reads nobody's mail)."""

from django.db.models import QuerySet

from .models import Message


def message_list_mine(*, user) -> QuerySet[Message]:
    """The user's messages, newest first."""
    if user is None or not user.is_authenticated:
        return Message.objects.none()
    return Message.objects.filter(recipient=user).order_by("-created_at", "-pk")


def message_get_mine(*, user, pk: int) -> Message | None:
    """One message if `user` is its recipient (None otherwise: the page answers 404)."""
    return message_list_mine(user=user).filter(pk=pk).first()


def unread_count(*, user) -> int:
    """How many of the user's messages are unread; kept on the user object for the request."""
    if user is None or not user.is_authenticated:
        return 0
    cached = getattr(user, "_kaoping_unread", None)
    if cached is None:
        cached = Message.objects.filter(recipient=user, read_at__isnull=True).count()
        user._kaoping_unread = cached
    return cached
