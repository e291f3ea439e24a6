"""The election's to-dos for the home page (kaoping.core.todos), from the board's own numbers
(`election.board.village_rows`, a handful of grouped queries whatever the number of villages):

- whoever records stages in an open round (`election.record`: the county, a township): the
  villages in red in their area (urgent), the villages behind a stage whose deadline passed,
  and the issues past their deadline;
- a department scorer: its department's villages (`access.department_files`, covered or paired:
  the board's villages) in red, and the paired ones it has not visited this month (a help visit
  is recorded for the village a department is paired with).
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kaoping.accounts.permissions import scopes_for
from kaoping.core.todos import Todo

from .access import department_files, department_q, departments_of
from .board import RED, open_rounds, village_rows
from .models import ElectionRound, HelpVisit, RoundStatus, VillageFile


def home_todos(user) -> list:
    records = bool(scopes_for(user, "election.record"))
    departments = departments_of(user) if scopes_for(user, "election.help") else []
    if not records and not departments:
        return []
    today = timezone.localdate()
    todos: list[Todo] = []
    if records:
        todos.extend(_recorder_todos(user, today))
    if departments:
        todos.extend(_department_todos(departments, today))
    return todos


def _recorder_todos(user, today) -> list[Todo]:
    todos = []
    board_url = reverse("election:board")
    recordable = VillageFile.objects.for_user(user, "election.record")
    for round_ in open_rounds(user):
        rows = village_rows(round_, recordable, today=today)
        if not rows:
            continue
        red = sum(r.colour == RED for r in rows)
        behind = sum(
            r.indicators["stage_progress"].numerator < r.indicators["stage_progress"].denominator
            for r in rows
        )
        overdue = sum(r.indicators["open_issues"].numerator for r in rows)
        url = f"{board_url}?round={round_.pk}"
        if red:
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d village in red on the election board",
                        "%(count)d villages in red on the election board",
                        red,
                    )
                    % {"count": red},
                    url=url,
                    count=red,
                    urgent=True,
                    detail=round_.name,
                    order=20,
                )
            )
        if behind:
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d village behind a stage whose deadline has passed",
                        "%(count)d villages behind a stage whose deadline has passed",
                        behind,
                    )
                    % {"count": behind},
                    url=reverse("election:files"),
                    count=behind,
                    urgent=True,
                    detail=round_.name,
                    order=21,
                )
            )
        if overdue:
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d village issue past its deadline",
                        "%(count)d village issues past their deadline",
                        overdue,
                    )
                    % {"count": overdue},
                    url=reverse("election:files"),
                    count=overdue,
                    detail=round_.name,
                    order=22,
                )
            )
    return todos


def _department_todos(departments, today) -> list[Todo]:
    todos = []
    month_start = today.replace(day=1)
    for round_ in ElectionRound.objects.filter(
        status=RoundStatus.OPEN,
        pk__in=VillageFile.objects.filter(department_q(departments)).values("round_id"),
    ).order_by("-opened_at", "-pk"):
        files = department_files(round_, *departments)
        rows = village_rows(round_, files, today=today)
        red = sum(r.colour == RED for r in rows)
        unvisited = (
            files.filter(paired_department__in=departments)
            .exclude(
                pk__in=HelpVisit.objects.filter(
                    file__round=round_,
                    department__in=departments,
                    visited_on__gte=month_start,
                    visited_on__lte=today,
                ).values("file_id")
            )
            .count()
        )
        files_url = reverse("election:files")
        if red:
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d village of your department in red",
                        "%(count)d villages of your department in red",
                        red,
                    )
                    % {"count": red},
                    url=files_url,
                    count=red,
                    urgent=True,
                    detail=round_.name,
                    order=20,
                )
            )
        if unvisited:
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d paired village without a help visit this month",
                        "%(count)d paired villages without a help visit this month",
                        unvisited,
                    )
                    % {"count": unvisited},
                    url=files_url,
                    count=unvisited,
                    detail=_("%(round)s · since %(day)s")
                    % {"round": round_.name, "day": month_start.isoformat()},
                    order=23,
                )
            )
    return todos
