"""Pages of the problems ledger: the scoped list, a problem's page with what the user may do,
raising one for a household (grid staff), and the villager's own page (`/my/problems/`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.privacy import mask_name
from kaoping.core.views import form_submit
from kaoping.grid.models import Visit
from kaoping.people.models import Household

from . import selectors, services
from .forms import AssignForm, CloseForm, ConfirmForm, NoteForm, RaiseForm, ResolveForm
from .models import Level, Problem, Status

PAGE_SIZE = 30


def _problem(request, pk) -> Problem:
    return get_scoped_or_404(
        Problem.objects.select_related(
            "household__head", "region", "assigned_region", "assigned_department", "visit"
        ),
        request.user,
        "problem.view",
        pk=pk,
    )


def _head_name(user, household) -> str:
    head = household.head.name if household.head_id else ""
    return head if may(user, "people.view", household) else mask_name(head)


@login_required
def problem_list(request):
    user = request.user
    if not user_can(user, "problem.view"):
        raise PermissionDenied
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    level = request.GET.get("level", "")
    level = level if level in Level.values else ""
    overdue = request.GET.get("overdue") == "1"
    rows = selectors.problem_list(user=user, status=status, level=level, overdue=overdue)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for problem in page:
        head = problem.household.head
        problem.head_masked = mask_name(head.name) if head else ""
    counts = selectors.problem_counts(user=user, level=level)
    return render(
        request,
        "problems/list.html",
        {
            "page": page,
            "counts": counts,
            "statuses": [(value, label, counts[value]) for value, label in Status.choices],
            "today": timezone.localdate(),
            "levels": Level.choices,
            "status": status,
            "level": level,
            "overdue": overdue,
        },
    )


def _detail(request, problem, **forms):
    user = request.user
    actions = selectors.problem_actions(user=user, problem=problem)
    context = {
        "problem": problem,
        "head": _head_name(user, problem.household),
        "events": selectors.problem_events(problem),
        "actions": actions,
        "overdue": problem.overdue_on(timezone.localdate()),
        "visit_link": problem.visit_id is not None and may(user, "visit.view", problem.visit),
        "progress_form": forms.get("progress") or NoteForm(),
        "resolve_form": forms.get("resolve") or ResolveForm(),
        "assign_form": forms.get("assign") or AssignForm(departments=actions.departments),
        "close_form": forms.get("close") or CloseForm(),
        "confirm_form": forms.get("confirm") or ConfirmForm(),
    }
    return render(request, "problems/detail.html", context, status=400 if forms else 200)


@login_required
def problem_detail(request, pk):
    return _detail(request, _problem(request, pk))


def _detail_url(problem) -> str:
    return reverse("problems:detail", args=[problem.pk])


@login_required
@require_POST
def problem_progress(request, pk):
    problem = _problem(request, pk)
    form = NoteForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.problem_progress(
            problem=problem, note=d["note"], acting_user=request.user
        ),
        redirect_to=_detail_url(problem),
        message=_("Progress noted."),
    )
    return done or _detail(request, problem, progress=form)


@login_required
@require_POST
def problem_resolve(request, pk):
    problem = _problem(request, pk)
    form = ResolveForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.problem_resolve(
            problem=problem, resolution=d["resolution"], acting_user=request.user
        ),
        redirect_to=_detail_url(problem),
        message=_("Resolved. The household is asked to confirm."),
    )
    return done or _detail(request, problem, resolve=form)


@login_required
@require_POST
def problem_assign(request, pk):
    problem = _problem(request, pk)
    actions = selectors.problem_actions(user=request.user, problem=problem)
    if not actions.assign_to:
        raise PermissionDenied
    form = AssignForm(request.POST, departments=actions.departments)
    done = form_submit(
        request,
        form,
        lambda d: services.problem_assign(
            problem=problem,
            level=actions.assign_to,
            department=d.get("department"),
            note=d["note"],
            acting_user=request.user,
        ),
        redirect_to=_detail_url(problem),
        message=_("Handed on."),
    )
    return done or _detail(request, problem, assign=form)


@login_required
@require_POST
def problem_close(request, pk):
    problem = _problem(request, pk)
    form = CloseForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.problem_close_unconfirmed(
            problem=problem, note=d["note"], acting_user=request.user
        ),
        redirect_to=_detail_url(problem),
        message=_("Closed without the household's answer."),
    )
    return done or _detail(request, problem, close=form)


@login_required
@require_POST
def problem_confirm(request, pk):
    problem = _problem(request, pk)
    form = ConfirmForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.problem_confirm(
            problem=problem,
            satisfied=d["satisfied"],
            rating=d["rating"],
            comment=d["comment"],
            acting_user=request.user,
        ),
        redirect_to=reverse("problems:mine") + f"#problem-{problem.pk}",
        message=lambda p: (
            _("Thank you: the problem is closed.")
            if p.status == Status.CLOSED
            else _("Thank you: the problem goes back to be solved.")
        ),
    )
    if done:
        return done
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)
    return redirect(reverse("problems:mine") + f"#problem-{problem.pk}")


@login_required
def problem_raise(request, household_pk):
    user = request.user
    household = get_scoped_or_404(
        Household.objects.select_related("region", "head"),
        user,
        "problem.raise",
        pk=household_pk,
    )
    visit = None
    if visit_pk := request.GET.get("visit", ""):
        if not visit_pk.isdigit():
            raise Http404
        visit = get_scoped_or_404(Visit.objects, user, "visit.view", pk=int(visit_pk))
    form = RaiseForm(request.POST or None)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda d: services.problem_raise(
                household=household,
                category=d["category"],
                title=d["title"],
                description=d["description"],
                visit=visit,
                idempotency_key=f"form:{d['idempotency_key']}",
                acting_user=user,
            ),
            redirect_to=lambda raised: _detail_url(raised[0]),
            message=lambda raised: (
                _("Problem recorded.")
                if raised[1]
                else (messages.INFO, _("This problem was already recorded."))
            ),
            fields={"idempotency_key": "__all__"},
        )
        if done:
            return done
    return render(
        request,
        "problems/raise.html",
        {
            "form": form,
            "household": household,
            "head": _head_name(user, household),
            "visit": visit,
        },
    )


@login_required
def my_problems(request):
    """The villager's page: the household's problems, raising one, answering a resolution."""
    user = request.user
    households = list(selectors.households_of_villager(user=user))
    if not households:
        raise PermissionDenied
    household = households[0]
    form = RaiseForm(request.POST or None)
    if request.method == "POST":
        done = form_submit(
            request,
            form,
            lambda d: services.problem_raise(
                household=household,
                category=d["category"],
                title=d["title"],
                description=d["description"],
                idempotency_key=f"form:{d['idempotency_key']}",
                acting_user=user,
            ),
            redirect_to=reverse("problems:mine"),
            message=lambda raised: (
                _("Sent. Your grid member will answer within a few days.")
                if raised[1]
                else (messages.INFO, _("This problem was already sent."))
            ),
        )
        if done:
            return done
    problems = list(
        selectors.problem_list(user=user)
        .filter(household__in=households)
        .order_by("-raised_at", "-pk")[:50]
    )
    for problem in problems:
        if problem.status == Status.RESOLVED:
            # Each form its own ids, so that a tap on a label picks that problem's answer.
            problem.confirm_form = ConfirmForm(auto_id=f"p{problem.pk}_%s")
    return render(
        request,
        "problems/mine.html",
        {
            "form": form,
            "household": household,
            "problems": problems,
            "opened": request.method == "POST",
        },
    )
