"""The to-do registry: what each person should do next, gathered for their home page.

Each app that gives people work writes `home_todos(user) -> list[Todo]` in its own `todos.py`
and lists it by dotted path in `settings.HOME_TODOS`; core imports no app, so the list is read
here and the providers are called in that order. A provider is set-based and scoped through
`for_user` (a handful of queries, never a loop over villages), returns only what the user may
act on, and returns `[]` for users it has nothing for — cheaply, before any query.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Todo:
    """One thing to do: a line on the home page linking to the page where it is done."""

    title: str  # already translated, e.g. "3 个周期待关闭"
    url: str  # the page where it is done
    count: int | None = None
    urgent: bool = False  # overdue: shown first and in red
    detail: str = ""
    order: int = 50  # lower first


# A to-do says how many, up to this many: a province's reviewer with 100,000 entries waiting
# need not wait for them all to be counted on every visit of the home page.
COUNT_SHOWN = 999


def counted(queryset: QuerySet) -> tuple[int, bool]:
    """(how many rows, up to COUNT_SHOWN; whether there are more): reads at most one more."""
    n = queryset.order_by()[: COUNT_SHOWN + 1].count()
    return min(n, COUNT_SHOWN), n > COUNT_SHOWN


def providers() -> list:
    return [import_string(path) for path in getattr(settings, "HOME_TODOS", ())]


def todos_for(user) -> list[Todo]:
    """Every provider's to-dos for `user`, urgent first, then by order (stable within a tie)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    todos: list[Todo] = []
    for provider in providers():
        todos.extend(provider(user) or ())
    return sorted(todos, key=lambda todo: (not todo.urgent, todo.order))
