"""The ballot pages: a login rater's page (`rate`), the public page a household or a member opens
from their QR code without an account (`code`, /v/<code>/), the printable sheet of a village's
codes (`codes`, with its village picker `codes_villages`), staff typing in paper ballots
(`paper`), and the individual ballots the audit role reads (`ballots`).

Names: a login rater (the branch committee, a panel's judge) sees full names and the village,
since they rate people they work with and must not mix up two 王建国; the public code page shows
masked names (王*国) with the branch, and never how a code rated, only that it did.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core import throttle
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.http import address_hash, client_address
from kaoping.core.qr import qr_svg
from kaoping.core.views import form_submit
from kaoping.people.models import Subject
from kaoping.regions.models import Region

from . import ballot_selectors as selectors
from . import pools
from .ballots import ballot_cast, paper_ballots_enter, rater_key, window_problem
from .forms_ballots import PAPER_ROWS_MAX, PAPER_ROWS_START, BallotForm, PaperBallotsForm
from .models import Ballot, BallotChannel, Round, RoundStatus
from .spec import CODE_POOLS

# The code page's limits (config/settings.py, .env.example): requests per client address,
# unknown codes tried per address (guessing), and ballots posted per code, all within one window.
# Many phones share one address behind a carrier's NAT, so the address limits are generous;
# guessing is what the miss limit stops.
CODE_MAX_LENGTH = 16  # RaterCode.code


def _limit(name: str) -> int:
    return getattr(settings, name)


def _address_key(request) -> str:
    return address_hash(client_address(request))[:32]


def _over(key: str, limit_name: str) -> bool:
    # Counted before checking, atomically in the cache every worker shares, so two racing
    # requests cannot both slip under the limit.
    return throttle.bump(key, _limit("EVALUATION_CODE_WINDOW_SECONDS")) > _limit(limit_name)


def _too_many(request):
    return render(request, "evaluations/code_throttled.html", status=429)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next_pk(cards, subject_pk: int) -> int | None:
    """The next subject after `subject_pk` not yet rated (going round), or None."""
    ids = [c.subject.pk for c in cards]
    if subject_pk not in ids:
        return None
    after = ids[ids.index(subject_pk) + 1 :] + ids[: ids.index(subject_pk)]
    undone = {c.subject.pk for c in cards if not c.done}
    return next((pk for pk in after if pk in undone), None)


def _next_anchor(cards, subject_pk: int) -> str:
    """Where to land after rating one: the next subject not yet rated, else the thanks."""
    following = _next_pk(cards, subject_pk)
    return f"?rated={subject_pk}" + (f"#s{following}" if following else "#thanks")


def _rating_page(request, *, round_, cards, campaign, subjects, cast, template, context):
    """The shared POST/GET of the two rating pages: one form per subject card; a post rates one
    subject (`subject` names it) and lands on the next one still to rate."""
    posted_pk, posted_form = None, None
    if request.method == "POST":
        subject = subjects.filter(pk=_int(request.POST.get("subject"))).first()
        if subject is None:
            raise Http404
        form = BallotForm(campaign, request.POST, prefix=f"s{subject.pk}")
        done = form_submit(
            request,
            form,
            lambda data: cast(subject, form.marks(data), data.get("comment", "")),
            # The thanks is shown where the page lands (the next card), not at its top.
            redirect_to=request.path + _next_anchor(cards, subject.pk),
            fields=form.error_fields(),
        )
        if done:
            return done
        posted_pk, posted_form = subject.pk, form
        if not any(c.subject.pk == subject.pk for c in cards):
            for text in form.non_field_errors():
                messages.error(request, text)
    for card in cards:
        if card.subject.pk == posted_pk:
            card.form = posted_form
        elif not card.done and not context.get("problem"):
            card.form = BallotForm(campaign, prefix=f"s{card.subject.pk}")
    done_count = sum(1 for c in cards if c.done)
    just_rated = None
    rated_pk = _int(request.GET.get("rated"))
    rated = next((c for c in cards if c.subject.pk == rated_pk and c.done), None)
    if rated is not None and request.method == "GET":
        just_rated = {"name": rated.name, "at": _next_pk(cards, rated.subject.pk)}
    return render(
        request,
        template,
        {
            "round": round_,
            "campaign": campaign,
            "cards": cards,
            "done_count": done_count,
            "all_done": bool(cards) and done_count == len(cards),
            "just_rated": just_rated,
            **context,
        },
    )


# ── a login rater ──────────────────────────────────────────────────────────────────────────────


@login_required
@require_http_methods(["GET", "POST"])
def rate(request, pk: int):
    user = request.user
    round_ = selectors.round_for_rater(user, pk)
    if not user_can(user, "evaluation.rate"):
        raise PermissionDenied
    campaign = pools.campaign_of(round_)
    problem = window_problem(round_)
    subjects = pools.subjects_for_user(round_, user)
    if problem and request.method == "POST":
        messages.error(request, problem)
        return HttpResponseRedirect(request.path)
    cards = selectors.rating_cards(
        round_, subjects, rater_key(user=user), masked=False, campaign=campaign
    )

    def cast(subject, marks, comment):
        return ballot_cast(
            round=round_, subject=subject, marks=marks, comment=comment, acting_user=user
        )

    return _rating_page(
        request,
        round_=round_,
        cards=cards,
        campaign=campaign,
        subjects=subjects,
        cast=cast,
        template="evaluations/rate.html",
        context={
            "problem": problem,
            "by_code": pools.pool_of(round_) in CODE_POOLS,
            "may_print": user_can(user, "evaluation.paper"),
        },
    )


# ── the public code page ───────────────────────────────────────────────────────────────────────


@require_http_methods(["GET", "POST"])
def code_page(request, code: str):
    address = _address_key(request)
    if _over(f"kaoping:evaluations:code:address:{address}", "EVALUATION_CODE_MAX_PER_ADDRESS"):
        return _too_many(request)
    rater_code = selectors.code_find(code) if len(code) <= CODE_MAX_LENGTH else None
    if rater_code is None:
        if _over(f"kaoping:evaluations:code:miss:{address}", "EVALUATION_CODE_MISSES_PER_ADDRESS"):
            return _too_many(request)
        # A public page of its own: the staff 404 would offer the login to a villager.
        return render(
            request, "evaluations/code_unknown.html", {"code": code[:CODE_MAX_LENGTH]}, status=404
        )
    round_ = rater_code.round
    problem = window_problem(round_)
    if problem:
        return render(
            request,
            "evaluations/code_closed.html",
            {"round": round_, "village": rater_code.village, "problem": problem},
        )
    if request.method == "POST" and _over(
        f"kaoping:evaluations:code:code:{rater_code.pk}", "EVALUATION_CODE_MAX_PER_CODE"
    ):
        return _too_many(request)
    campaign = pools.campaign_of(round_)
    subjects = pools.subjects_for_code(round_, rater_code)
    cards = selectors.rating_cards(
        round_, subjects, rater_key(code=rater_code), masked=True, campaign=campaign
    )

    def cast(subject, marks, comment):
        return ballot_cast(
            round=round_,
            subject=subject,
            marks=marks,
            comment=comment,
            acting_user=None,
            code=rater_code,
        )

    return _rating_page(
        request,
        round_=round_,
        cards=cards,
        campaign=campaign,
        subjects=subjects,
        cast=cast,
        template="evaluations/code.html",
        context={"village": rater_code.village},
    )


# ── the printable codes ────────────────────────────────────────────────────────────────────────


def _round_seen(user, pk: int) -> Round:
    return get_object_or_404(
        Round.objects.for_user(user, "evaluation.view").select_related("plan__region"), pk=pk
    )


@login_required
@require_GET
def codes_villages(request, pk: int):
    user = request.user
    round_ = _round_seen(user, pk)
    if not user_can(user, "evaluation.paper"):
        raise PermissionDenied
    return render(
        request,
        "evaluations/codes_villages.html",
        {"round": round_, "villages": selectors.code_villages(round_, user)},
    )


@login_required
@require_GET
def codes(request, pk: int, village: int):
    user = request.user
    round_ = _round_seen(user, pk)
    place = get_scoped_or_404(
        Region.objects.select_related("parent"), user, "evaluation.paper", pk=village
    )
    closed = round_.status != RoundStatus.OPEN
    cards = [] if closed else selectors.code_cards(round_, place)
    for card in cards:
        card.url = request.build_absolute_uri(reverse("evaluations:code", args=[card.code]))
        card.link = card.url.split("://", 1)[-1]
        card.qr = qr_svg(card.url)
    return render(
        request,
        "evaluations/codes.html",
        {"round": round_, "village": place, "cards": cards, "closed": closed},
    )


# ── paper ballots ──────────────────────────────────────────────────────────────────────────────


@login_required
@require_http_methods(["GET", "POST"])
def paper(request, pk: int):
    user = request.user
    round_ = _round_seen(user, pk)
    if not user_can(user, "evaluation.paper"):
        raise PermissionDenied
    by_code = pools.pool_of(round_) in CODE_POOLS
    subjects = (
        Subject.objects.for_user(user, "evaluation.paper")
        .filter(pk__in=round_.subjects.values("pk"))
        .select_related("region", "person")
        .annotate(branch=F("person__party_member__branch"))
        .order_by("region__code", "name", "pk")
    )
    # The village first, then whom in it: a county's round rates a thousand people, namesakes
    # among them.
    village_codes = sorted({c[:12] for c in subjects.values_list("region__code", flat=True)})
    villages = list(
        Region.objects.filter(code__in=village_codes).select_related("parent").order_by("code")
    )
    chosen = _int(request.POST.get("subject") or request.GET.get("subject"))
    subject = None
    if chosen is not None:
        subject = subjects.filter(pk=chosen).first()
        if subject is None:
            raise Http404
    village = None
    if subject is not None:
        village = next((v for v in villages if subject.region.code.startswith(v.code)), None)
    elif (picked := _int(request.GET.get("village"))) is not None:
        village = next((v for v in villages if v.pk == picked), None)
    elif len(villages) == 1:
        village = villages[0]
    context = {
        "round": round_,
        "by_code": by_code,
        "villages": villages,
        "village": village,
        "subjects": list(subjects.filter(region__code__startswith=village.code))
        if village and by_code
        else [],
        "subject": subject if by_code else None,
    }
    if subject is None or not by_code:
        return render(request, "evaluations/paper.html", context)

    campaign = pools.campaign_of(round_)
    here = f"{reverse('evaluations:paper', args=[round_.pk])}?subject={subject.pk}"
    rows = _int(request.POST.get("rows")) or PAPER_ROWS_START
    form = PaperBallotsForm(campaign, rows)
    if request.method == "POST":
        if "add" in request.POST:
            form = PaperBallotsForm(campaign, min(rows + 1, PAPER_ROWS_MAX), request.POST)
            form.fields["rows"].initial = form.row_count
            form.data = form.data.copy()
            form.data["rows"] = str(form.row_count)
        else:
            form = PaperBallotsForm(campaign, rows, request.POST)

            def call(data):
                found = form.ballots(data)
                if not found:
                    raise KaopingError(_("Type in at least one ballot."))
                try:
                    return paper_ballots_enter(
                        round=round_,
                        subject=subject,
                        ballots=[ballot for _n, ballot in found],
                        acting_user=user,
                    )
                except ImportFailed as exc:
                    # The service counts the rows it was given; the page numbers its own rows,
                    # blank ones included.
                    raise ImportFailed(
                        [RowError(found[e.row - 1][0], e.field, e.message) for e in exc.errors]
                    ) from None

            done = form_submit(
                request,
                form,
                call,
                redirect_to=here,
                message=lambda created: (
                    ngettext(
                        "%(n)d paper ballot typed in for %(name)s.",
                        "%(n)d paper ballots typed in for %(name)s.",
                        len(created),
                    )
                    % {"n": len(created), "name": subject.name}
                ),
            )
            if done:
                return done
    errors = {}
    for error in getattr(form, "row_errors", []):
        errors.setdefault(error.row, {}).setdefault(error.field, []).append(error.message)
    rows_shown = []
    for n in range(1, form.row_count + 1):
        row_errors = errors.get(n, {})
        fields = form.row_fields(n)
        named = {code for code, _bf in fields}
        rows_shown.append(
            {
                "n": n,
                "fields": [
                    (bf, [*(bf.errors if form.is_bound else []), *row_errors.get(code, [])])
                    for code, bf in fields
                ],
                "other": [m for f, ms in row_errors.items() if f not in named for m in ms],
                "bad": bool(row_errors) or (form.is_bound and any(bf.errors for _c, bf in fields)),
            }
        )
    counts = Ballot.objects.filter(round=round_, subject=subject)
    context.update(
        {
            "campaign": campaign,
            "form": form,
            "rows": rows_shown,
            "problem": window_problem(round_, paper=True),
            "ballot_count": counts.count(),
            "paper_count": counts.filter(channel=BallotChannel.PAPER).count(),
            "row_errors": getattr(form, "row_errors", []),
        }
    )
    return render(request, "evaluations/paper.html", context)


# ── individual ballots: the audit role ─────────────────────────────────────────────────────────


@login_required
@require_GET
def ballots(request, pk: int):
    user = request.user
    round_ = _round_seen(user, pk)
    if not may(user, "evaluation.ballots", round_):
        raise PermissionDenied
    subject = None
    if (chosen := _int(request.GET.get("subject"))) is not None:
        subject = round_.subjects.filter(pk=chosen).first()
    with transaction.atomic(durable=True):
        page, rows = selectors.round_ballots_open(
            user, round_, page=request.GET.get("page"), subject=subject
        )
    return render(
        request,
        "evaluations/ballots.html",
        {
            "round": round_,
            "page": page,
            "rows": rows,
            "subject": subject,
            "subjects": round_.subjects.select_related("region").order_by("region__code", "name"),
        },
    )
