"""Reads of the persons' sheets (一人一表), the most sensitive rows of the product.

A sheet is seen only by the county (organisation department) and the township staff of the
sheet's village (`election.sheet`); a department sees its own findings on the findings pages,
never a sheet. Every opening of one sheet and every export is written to the audit log (who,
when, and for an export why): `sheet_open`, `sheets_export`. Both write, so they run inside the
caller's transaction (the view's).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.privacy import mask_id_number, mask_phone
from kaoping.people.models import Cadre, Subject, SubjectKind
from kaoping.periods.models import PeriodStatus, Result
from kaoping.regions.models import Department, Region
from kaoping.schemes.models import SchemeGrade

from .models import ElectionRound, Finding, PersonSheet, Qualification, RoundStatus
from .selectors import rounds_for
from .spec import spec_of

SHEET = "election.sheet"
REASON_MIN_LENGTH = 4  # "联审会议" is four characters: the shortest reason that says something


# ─── the round ───


def rounds_visible(user, action: str = SHEET) -> QuerySet[ElectionRound]:
    """The rounds of the counties `user` works in for `action`, newest first."""
    return rounds_for(user, action)


def round_current(user, action: str = SHEET, pk: int | str | None = None) -> ElectionRound | None:
    """The round asked for (`pk`, if the user sees it), else the newest open one, else the
    newest."""
    rounds = rounds_visible(user, action)
    if pk:
        try:
            return rounds.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None
    return rounds.filter(status=RoundStatus.OPEN).first() or rounds.first()


# ─── the list ───


def sheets_for(
    user, round: ElectionRound, *, prefix: str = "", qualification: str = "", q: str = ""
) -> QuerySet[PersonSheet]:
    """The round's sheets `user` may see, under region `prefix`, of one qualification result,
    of persons whose name (or pinyin initials) contains `q`, in village order."""
    sheets = sheets_filtered(user, round, prefix=prefix, q=q)
    if qualification in Qualification.values:
        sheets = sheets.filter(qualification=qualification)
    return sheets


def sheets_filtered(
    user, round: ElectionRound, *, prefix: str = "", q: str = "", intended: str = ""
) -> QuerySet[PersonSheet]:
    sheets = (
        PersonSheet.objects.for_user(user, SHEET)
        .filter(round=round)
        .select_related("person", "village__parent")
        .order_by("village__code", "person__name", "id")
    )
    if prefix and prefix.isdigit():
        sheets = sheets.filter(village__code__startswith=prefix)
    q = (q or "").strip()
    if q:
        sheets = sheets.filter(Q(person__name__contains=q) | Q(person__initials__icontains=q))
    if intended == "1":
        sheets = sheets.filter(intended=True)
    elif intended == "0":
        sheets = sheets.filter(intended=False)
    return sheets


def sheet_counts(sheets: QuerySet[PersonSheet]) -> dict[str, int]:
    """How many of `sheets` passed, are unfit, are to be checked; and in all (one query)."""
    totals = sheets.order_by().aggregate(
        total=Count("id"),
        **{value: Count("id", filter=Q(qualification=value)) for value in Qualification.values},
    )
    return {key: value or 0 for key, value in totals.items()}


def region_choices(user, round: ElectionRound) -> tuple[list[Region], list[Region]]:
    """The townships and villages of the round's county that `user` sees sheets of."""
    regions = Region.objects.for_user(user, SHEET).filter(code__startswith=round.county.code)
    return (
        list(regions.filter(level="township").order_by("code")),
        list(regions.filter(level="village").select_related("parent").order_by("code")),
    )


# ─── one sheet ───


def sheet_open(user, pk, *, reason: str = "") -> PersonSheet:
    """Fetch one sheet in `user`'s scope (404 outside, 403 without `election.sheet`) and audit
    the view (`election.sheet.viewed`). Every opening is audited, each time."""
    sheet = get_scoped_or_404(
        PersonSheet.objects.select_related(
            "person__household", "person__region", "village__parent", "round__county", "added_by"
        ),
        user,
        SHEET,
        pk=pk,
    )
    with transaction.atomic():
        audit_record(
            actor=user,
            action="election.sheet.viewed",
            obj=sheet,
            region_code=sheet.village.code,
            after={"reason": reason} if reason else None,
        )
    return sheet


@dataclass
class ConditionAnswer:
    """One condition of the negative list on one sheet, with every department's findings."""

    code: str
    name: str
    department: str  # the department the configuration names to answer it
    findings: list[Finding]
    status: str  # "hit", "clear" or "pending"


@dataclass
class CadreReview:
    scheme: str
    period: str
    total: Decimal | None
    grade: str
    rank: int
    subject: Subject


@dataclass
class SheetContent:
    sheet: PersonSheet
    masked_id_number: str
    masked_phone: str
    age: int | None
    birth_date: date | None
    posts: list[Cadre]
    conditions: list[ConditionAnswer]
    notes: list[Finding]  # findings that answer no condition of the list
    reviews: list[CadreReview]
    departments_answered: int = 0
    departments_expected: int = 0
    other_findings: list[Finding] = field(default_factory=list)  # conditions no longer listed


def birth_date_of(person) -> date | None:
    """The recorded birth date, else the one inside a valid ID number."""
    if person.birth_date:
        return person.birth_date
    number = person.id_number or ""
    if len(number) == 18 and number[6:14].isdigit():
        try:
            return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    return None


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def sheet_content(sheet: PersonSheet) -> SheetContent:
    """What the sheet page shows: the person masked, their posts, the qualification per
    condition with every department's findings (date, document, what was found), and the
    person's latest cadre review. For a user the caller has let open the sheet."""
    person = sheet.person
    spec = spec_of(sheet.round)
    findings = list(
        Finding.objects.filter(sheet=sheet)
        .select_related("department", "recorded_by")
        .order_by("-found_on", "-id")
    )
    codes = {c.department for c in spec.conditions}
    departments = {
        d.code: d.name for d in Department.objects.filter(county=sheet.round.county, code__in=codes)
    }
    listed = {c.code for c in spec.conditions}
    conditions = []
    for condition in spec.conditions:
        answers = [f for f in findings if f.condition == condition.code]
        # As the qualification check reads it: the named department's latest finding decides;
        # what other departments noted on the condition is shown beside it.
        deciding = next((f for f in answers if f.department.code == condition.department), None)
        if deciding is None:
            status = "pending"
        else:
            status = "hit" if deciding.hit else "clear"
            deciding.decides = True
        conditions.append(
            ConditionAnswer(
                code=condition.code,
                name=condition.name,
                department=departments.get(condition.department, condition.department),
                findings=answers,
                status=status,
            )
        )
    posts = list(
        Cadre.objects.filter(person=person).select_related("region").order_by("region__code")
    )
    born = birth_date_of(person)
    return SheetContent(
        sheet=sheet,
        masked_id_number=mask_id_number(person.id_number or ""),
        masked_phone=mask_phone(person.phone),
        age=age_on(born, timezone.localdate()),
        birth_date=born,
        posts=posts,
        conditions=conditions,
        notes=[f for f in findings if not f.condition],
        other_findings=[f for f in findings if f.condition and f.condition not in listed],
        reviews=cadre_reviews(person),
        departments_answered=sum(1 for c in conditions if c.status != "pending"),
        departments_expected=len(conditions),
    )


def cadre_reviews(person) -> list[CadreReview]:
    """Per scheme that scores the person as a cadre (千分制): the latest closed period's total,
    grade and rank. Empty when no period scoring them has been closed yet."""
    subject = Subject.objects.filter(kind=SubjectKind.CADRE, person=person).first()
    if subject is None:
        return []
    closed = [PeriodStatus.CLOSED, PeriodStatus.POSTED, PeriodStatus.FINAL]
    results = (
        Result.objects.filter(subject=subject, period__status__in=closed)
        .select_related("period__scheme", "period__version")
        .order_by("period__scheme__code", "-period__end", "-period__start")
    )
    latest: dict[int, Result] = {}
    for result in results:
        latest.setdefault(result.period.scheme_id, result)
    grades = {
        (g.version_id, g.code): g.name
        for g in SchemeGrade.objects.filter(
            version_id__in={r.period.version_id for r in latest.values()}
        )
    }
    return [
        CadreReview(
            scheme=r.period.scheme.name,
            period=r.period.label,
            total=r.period.version.to_points(r.total),
            grade=grades.get((r.period.version_id, r.grade_code), r.grade_code),
            rank=r.rank,
            subject=subject,
        )
        for r in latest.values()
    ]


# ─── the export ───


def export_shows_full_id(user, round: ElectionRound) -> bool:
    """Whether an export by `user` carries ID numbers in full: for the county's 联审 meeting the
    county administrator of the round's county may need them to match other registers; every
    other export keeps them masked, like the pages."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.role_assignments.filter(
        role=Role.COUNTY_ADMIN, region__code=round.county.code
    ).exists()


# Marked for the catalog here, translated when the file is written (in the user's language).
EXPORT_HEADER = (
    gettext_noop("township"),
    gettext_noop("village"),
    gettext_noop("full name"),
    gettext_noop("ID number"),
    gettext_noop("gender"),
    gettext_noop("age"),
    gettext_noop("incumbent post"),
    gettext_noop("prospective candidate"),
    gettext_noop("intended candidate"),
    gettext_noop("intended post"),
    gettext_noop("一肩挑 intended"),
    gettext_noop("qualification check"),
    gettext_noop("reason"),
)


def export_header() -> list[str]:
    return [_(label) for label in EXPORT_HEADER]


def sheets_export(
    user, round: ElectionRound, sheets: QuerySet[PersonSheet], *, reason: str
) -> list[list]:
    """Audit an export of `sheets` (`election.sheets.exported`, with the reason and the count)
    and give its rows; refuse it without a stated reason. The caller has checked that `user`
    may see sheets; `sheets` come scoped from `sheets_for`."""
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_LENGTH:
        raise KaopingError(
            {
                "reason": _("State why you export these sheets (at least %(n)d characters).")
                % {"n": REASON_MIN_LENGTH}
            }
        )
    full = export_shows_full_id(user, round)
    rows = list(sheets.select_related("person", "village__parent"))
    posts: dict[int, list[str]] = {}
    for cadre in Cadre.objects.filter(person_id__in={s.person_id for s in rows}).order_by(
        "region__code"
    ):
        posts.setdefault(cadre.person_id, []).append(cadre.get_post_display())
    today = timezone.localdate()
    with transaction.atomic():
        audit_record(
            actor=user,
            action="election.sheets.exported",
            obj=round,
            region_code=_common_prefix([s.village.code for s in rows]) or round.county.code,
            after={"reason": reason, "count": len(rows), "full_id_numbers": full},
        )
    yes, no = _("yes"), _("no")
    return [
        [
            sheet.village.parent.name if sheet.village.parent_id else "",
            sheet.village.name,
            person.name,
            number if full else mask_id_number(number),
            person.get_gender_display(),
            age_on(birth_date_of(person), today),
            "、".join(posts.get(person.pk, [])),
            yes if sheet.is_candidate else no,
            yes if sheet.intended else no,
            sheet.intended_post,
            yes if sheet.one_shoulder_intended else no,
            sheet.get_qualification_display(),
            sheet.qualification_reason,
        ]
        for sheet in rows
        for person, number in [(sheet.person, sheet.person.id_number or "")]
    ]


def _common_prefix(codes: list[str]) -> str:
    if not codes:
        return ""
    first, last = min(codes), max(codes)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    # Only whole levels: county 6, township 9, village 12.
    for width in (12, 9, 6):
        if n >= width:
            return first[:width]
    return ""
