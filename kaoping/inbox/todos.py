"""The inbox's to-do for the home page (kaoping.core.todos): unread messages."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.core.todos import Todo

from .selectors import unread_count


def home_todos(user) -> list[Todo]:
    n = unread_count(user=user)
    if not n:
        return []
    return [
        Todo(
            title=_("%(n)d unread messages") % {"n": n},
            url=reverse("inbox:list"),
            count=n,
            order=5,
        )
    ]
