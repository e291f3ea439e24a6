"""The evaluations' to-dos for the home page (kaoping.core.todos):

- a rater who rates with their login (the branch committee, a panel's judges): the open rounds
  they have not finished rating (`round_selectors.rounds_to_rate`, one query per such round, a
  handful at most);
- whoever manages rounds (`evaluation.manage`): the open rounds past their last day that are
  not closed yet — the nightly job closes them, so one left over was refused (its period
  finalised) and needs a person (urgent).
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from kaoping.accounts.permissions import scopes_for
from kaoping.core.todos import Todo

from .models import Round, RoundStatus
from .round_selectors import rounds_to_rate


def home_todos(user) -> list[Todo]:
    if (
        not scopes_for(user, "evaluation.view")
        and not user.judged_rounds.filter(status=RoundStatus.OPEN).exists()
    ):
        return []
    today = timezone.localdate()
    todos: list[Todo] = []
    home = reverse("evaluations:home")
    unfinished = [t for t in rounds_to_rate(user, today=today) if t.left]
    if unfinished:
        count = len(unfinished)
        todos.append(
            Todo(
                title=ngettext(
                    "%(count)d evaluation round to rate",
                    "%(count)d evaluation rounds to rate",
                    count,
                )
                % {"count": count},
                url=home + "#to-rate",
                count=count,
                detail="、".join(f"{t.round.name} {t.round.period_label}" for t in unfinished[:3]),
                order=30,
            )
        )
    if scopes_for(user, "evaluation.manage"):
        overdue = list(
            Round.objects.for_user(user, "evaluation.manage")
            .filter(status=RoundStatus.OPEN, closes_on__lt=today)
            .order_by("closes_on", "pk")
            .values_list("pk", "name", "period_label")[:4]
        )
        if overdue:
            count = (
                Round.objects.for_user(user, "evaluation.manage")
                .filter(status=RoundStatus.OPEN, closes_on__lt=today)
                .count()
                if len(overdue) > 3
                else len(overdue)
            )
            todos.append(
                Todo(
                    title=ngettext(
                        "%(count)d evaluation round past its last day, not closed",
                        "%(count)d evaluation rounds past their last day, not closed",
                        count,
                    )
                    % {"count": count},
                    url=reverse("evaluations:round", args=[overdue[0][0]]) if count == 1 else home,
                    count=count,
                    urgent=True,
                    detail="、".join(f"{name} {label}" for _pk, name, label in overdue[:3]),
                    order=31,
                )
            )
    return todos
