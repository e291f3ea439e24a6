"""Pages of decisions (处理决定): the pending and recorded ones, and one decision where township
or county staff covering the subject (`outcome.manage`) record the option chosen and why."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import form_submit

from .decisions import decision_history, decision_list, decision_record
from .forms import DecisionForm
from .models import Decision

VIEW, MANAGE = "outcome.view", "outcome.manage"
SHOWN = 200


@login_required
def decision_index(request):
    """Decisions to take first, then the recorded ones (the latest `SHOWN`)."""
    user = request.user
    if not user_can(user, VIEW):
        raise PermissionDenied
    rows = list(decision_list(user)[:SHOWN])
    return render(
        request,
        "outcomes/decisions.html",
        {
            "pending": [d for d in rows if d.pending and d.triggered],
            "recorded": [d for d in rows if not (d.pending and d.triggered)],
        },
    )


@login_required
def decision_detail(request, pk: int):
    user = request.user
    decision = get_scoped_or_404(
        Decision.objects.select_related("subject__region", "period__scheme", "decided_by"),
        user,
        VIEW,
        pk=pk,
    )
    can_decide = may(user, MANAGE, decision)
    form = DecisionForm(options=decision.options, initial={"option": decision.option or None})
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        form = DecisionForm(request.POST, options=decision.options)
        done = form_submit(
            request,
            form,
            lambda data: decision_record(
                decision=decision,
                option=data["option"],
                reason=data["reason"],
                acting_user=user,
            ),
            redirect_to=reverse("outcomes:decision", args=[decision.pk]),
            message=_("Decision recorded."),
        )
        if done:
            return done
    return render(
        request,
        "outcomes/decision.html",
        {
            "decision": decision,
            "history": decision_history(user, decision),
            "form": form,
            "can_decide": can_decide,
        },
    )
