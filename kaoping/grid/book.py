"""The household's book (一户一册): its members, tags, changes, visits, problems and points, on a
page and as a printable booklet (one household, or every household of a grid)."""

from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from kaoping.accounts.scoping import may
from kaoping.ledger.models import EntryStatus
from kaoping.ledger.selectors import annotate_item_names, entry_list_of_subject
from kaoping.people.book import field_label
from kaoping.people.models import GridPostKind, Household, HouseholdPostKind, Person
from kaoping.people.selectors import book_of, subject_of_household

from .selectors import visit_list_of_household

RECENT_ENTRIES = 20

_POST_LABELS = {**dict(GridPostKind.choices), **dict(HouseholdPostKind.choices)}


def post_label(post: str) -> str:
    return str(_POST_LABELS.get(post, "")) if post else ""


def visitor_name(visit) -> str:
    if visit.visitor_person_id:
        return visit.visitor_person.name
    user = visit.visitor
    return user.get_full_name() or user.get_username()


def _shown(field: str, value):
    """A stored value as the pages show it: a choice (residence, gender) by its name."""
    try:
        choices = dict(Person._meta.get_field(field).flatchoices)
    except FieldDoesNotExist:
        return value
    return choices.get(value, value)


def label_change(change):
    """Give a book change `field_rows`: (field's Chinese name, before, after) for its edits."""
    rows = []
    for name, pair in (change.fields or {}).items():
        before, after = pair[:2] if isinstance(pair, list | tuple) else ("", pair)
        rows.append((field_label(name), _shown(name, before), _shown(name, after)))
    change.field_rows = rows
    return change


def _problems(*, user, household: Household) -> list:
    from kaoping.problems import selectors as problem_selectors

    return list(problem_selectors.problems_of_household(user=user, household=household))


def book_context(*, user, household: Household, recent_entries: int | None = RECENT_ENTRIES):
    """Everything the book shows, read through the scoped selectors of each app."""
    context = book_of(user=user, household=household)
    visits = list(visit_list_of_household(user=user, household=household))
    for visit in visits:
        visit.visitor_label = visitor_name(visit)
        visit.post_label = post_label(visit.visitor_post)
    by_id = {visit.pk: visit for visit in visits}
    for change in context["changes"]:
        change.visit = by_id.get(change.visit_id)
        label_change(change)
    subject = subject_of_household(user=user, household=household)
    entries, totals = [], []
    if subject is not None:
        rows = entry_list_of_subject(user=user, subject=subject)
        entries = list(rows[:recent_entries] if recent_entries else rows)
        annotate_item_names(entries)
        totals = list(
            rows.order_by()
            .values("scheme__name")
            .annotate(
                points=Sum("points", filter=Q(status=EntryStatus.APPROVED), default=Decimal(0))
            )
            .order_by("scheme__name")
        )
    context.update(
        visits=visits,
        problems=_problems(user=user, household=household),
        subject=subject,
        entries=entries,
        point_totals=totals,
        sensitive=may(user, "people.view_sensitive", household),
        can_visit=may(user, "visit.record", household),
        can_raise=may(user, "problem.raise", household),
    )
    return context


def booklet_pdf(request, *, user, households: list[Household], grid=None) -> bytes:
    """The books of `households` as one A4 PDF, each household from a new page; ID numbers and
    phones masked whoever prints it (a printed booklet travels)."""
    from weasyprint import HTML

    books = [book_context(user=user, household=h, recent_entries=None) for h in households]
    html = render_to_string(
        "grid/book_pdf.html",
        {"books": books, "grid": grid, "printed_on": timezone.localdate()},
        request=request,
    )
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
