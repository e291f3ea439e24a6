"""集中评比's pages: the chair's board (who has scored whom, polled every 3 s) with the button
that closes the session, a judge's phone page (the next contestant's form, their own marks
below), and the screen for the projector in the room (progress while open, the standing once
closed).

Who opens what (`panel.panel_rounds` first: a round the user neither sees in their area nor
judges nor chairs is 404): the board and the close are the chair's, or whoever manages
evaluations over the plan's region (`rounds.may_close`); the phone page is the judges'; the screen is everyone's who
may open the round. In scope but not allowed is 403. Rounds of other pools are 404 here.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kaoping.core.views import action_submit, form_submit

from .ballots import ballot_cast
from .models import Ballot, Round, RoundStatus
from .panel import (
    contestant_place,
    is_judge,
    is_panel,
    panel_board,
    panel_rounds,
    panel_standing,
)
from .pools import USER, campaign_of, subjects_for_user
from .rounds import may_close, round_close
from .spec import Aggregate, Campaign


class ScoreForm(forms.Form):
    """One judge's marks for one contestant: a number for a score, radio buttons for a scale."""

    def __init__(self, campaign: Campaign, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        for item in campaign.form:
            name = self.field_name(item.code)
            if item.scale is not None:
                self.fields[name] = forms.ChoiceField(
                    label=item.name,
                    choices=[
                        (level, f"{level}（{mark.normalize():f}）")
                        for level, mark in item.scale.items()
                    ],
                    widget=forms.RadioSelect,
                )
            else:
                top = item.max.normalize()
                self.fields[name] = forms.DecimalField(
                    label=f"{item.name}（0–{top:f}）",
                    min_value=0,
                    max_value=item.max,
                    decimal_places=2,
                    widget=forms.NumberInput(
                        attrs={
                            "step": "0.01",
                            "min": "0",
                            "max": f"{top:f}",
                            "inputmode": "decimal",
                        }
                    ),
                )
        if campaign.comment:
            self.fields["comment"] = forms.CharField(
                label=gettext_lazy("Comment (optional)"), required=False, max_length=300
            )

    @staticmethod
    def field_name(code: str) -> str:
        # Prefixed: a question's code may be any word, "comment" included.
        return f"q_{code}"

    def marks(self) -> dict[str, str]:
        return {
            item.code: str(self.cleaned_data[self.field_name(item.code)])
            for item in self.campaign.form
        }

    def renames(self) -> dict[str, str]:
        """The service's error keys (question codes) → this form's fields."""
        return {item.code: self.field_name(item.code) for item in self.campaign.form}


def _round(user, pk: int) -> Round:
    round_ = get_object_or_404(panel_rounds(user), pk=pk)
    if not is_panel(round_):
        raise Http404
    return round_


def _chaired(user, pk: int) -> Round:
    round_ = _round(user, pk)
    if not may_close(user, round_):
        raise PermissionDenied
    return round_


def _rule(campaign: Campaign) -> str:
    if campaign.aggregate is Aggregate.TRIMMED_MEAN:
        return _("The highest and the lowest mark are dropped; the result is the mean of the rest.")
    return _("The result is the mean of all marks.")


@login_required
@require_GET
def panel(request, pk: int):
    """The chair's page: the board, polled, and the button that closes the session."""
    round_ = _chaired(request.user, pk)
    campaign = campaign_of(round_)
    return render(
        request,
        "evaluations/panel.html",
        {
            "round": round_,
            "board": panel_board(round_),
            "rule": _rule(campaign),
            "min_ballots": campaign.min_ballots,
            "open": round_.status == RoundStatus.OPEN,
            "judging": is_judge(round_, request.user),
        },
    )


@login_required
@require_GET
def panel_board_fragment(request, pk: int):
    """The board alone, for the chair's page to poll (HTMX); it stops polling once closed."""
    round_ = _chaired(request.user, pk)
    return render(
        request, "evaluations/_panel_board.html", {"round": round_, "board": panel_board(round_)}
    )


@login_required
@require_POST
def panel_close(request, pk: int):
    """Close the session (rounds.round_close applies the aggregate) and go to the screen. With
    scores still missing the chair must say so: a contestant short of ballots gets no result."""
    user = request.user
    round_ = _chaired(user, pk)
    here = reverse("evaluations:panel", args=[round_.pk])
    board = panel_board(round_)
    if round_.status == RoundStatus.OPEN and not board.done and not request.POST.get("confirm"):
        messages.error(
            request,
            _(
                "%(n)d scores are still missing. Tick “close anyway” to close the session without "
                "them."
            )
            % {"n": board.due - board.scored},
        )
        return HttpResponseRedirect(here)
    return action_submit(
        request,
        lambda: round_close(round=round_, acting_user=user),
        redirect_to=reverse("evaluations:screen", args=[round_.pk]),
        success=_("The session is closed; the results are on the screen."),
        failed_to=here,
    )


@login_required
def judge(request, pk: int):
    """A judge's phone: the next contestant they have not scored (or the one they chose), the
    form, and the marks they gave so far (their own only)."""
    user = request.user
    round_ = _round(user, pk)
    if not is_judge(round_, user):
        raise PermissionDenied
    here = reverse("evaluations:judge", args=[round_.pk])
    campaign = campaign_of(round_)
    subjects = list(subjects_for_user(round_, user).order_by("region__code", "name", "id"))
    mine = {
        b.subject_id: b
        for b in Ballot.objects.filter(round=round_, rater_key=f"{USER}:{user.pk}").only(
            "subject_id", "mark", "cast_at"
        )
    }
    unscored = [s for s in subjects if s.pk not in mine]
    is_open = round_.status == RoundStatus.OPEN
    wanted = (request.POST if request.method == "POST" else request.GET).get("subject", "")
    current = next((s for s in unscored if str(s.pk) == wanted), None)
    if request.method == "POST":
        if not is_open:
            messages.error(request, _("The session is closed: no more scores are taken."))
            return HttpResponseRedirect(here)
        if current is None:
            scored = next((s for s in subjects if str(s.pk) == wanted and s.pk in mine), None)
            if scored is None:
                raise Http404
            messages.error(request, _("You have already scored %(name)s.") % {"name": scored.name})
            return HttpResponseRedirect(here)
    elif current is None and unscored:
        current = unscored[0]
    form = None
    if is_open and current is not None:
        form = ScoreForm(campaign, request.POST if request.method == "POST" else None)
        if request.method == "POST":
            done = form_submit(
                request,
                form,
                lambda data: ballot_cast(
                    round=round_,
                    subject=current,
                    marks=form.marks(),
                    comment=data.get("comment", ""),
                    acting_user=user,
                ),
                redirect_to=here,
                message=lambda ballot: (
                    _("Scored %(name)s: %(mark)s.") % {"name": current.name, "mark": ballot.mark}
                ),
                fields=form.renames(),
            )
            if done:
                return done
    scored = [
        {"subject": s, "name": s.name, "place": contestant_place(s), "ballot": mine[s.pk]}
        for s in subjects
        if s.pk in mine
    ]
    return render(
        request,
        "evaluations/panel_judge.html",
        {
            "round": round_,
            "campaign": campaign,
            "open": is_open,
            "current": current,
            "current_place": contestant_place(current) if current else "",
            "form": form,
            "others": [
                {"subject": s, "name": s.name, "place": contestant_place(s)}
                for s in unscored
                if current is None or s.pk != current.pk
            ],
            "scored": scored,
            "total": len(subjects),
        },
    )


@login_required
@require_GET
def screen(request, pk: int):
    """The projector's page: '已评 x/y' per contestant while open (polled), the standing with its
    rule once closed. Persons' names are masked: the room is not only the panel."""
    round_ = _round(request.user, pk)
    campaign = campaign_of(round_)
    standing = panel_standing(round_, masked=True)
    context = {
        "round": round_,
        "board": panel_board(round_, masked=True) if standing is None else None,
        "standing": standing,
        "rule": _rule(campaign),
        "min_ballots": campaign.min_ballots,
    }
    if request.headers.get("HX-Request"):
        return render(request, "evaluations/_panel_screen.html", context)
    return render(request, "evaluations/panel_screen.html", context)
