"""Who may decide or record which entries, beyond the region scope of `for_user`.

The scope says where a user acts; a scheme says more: which roles review its entries
(`review.by`) and which department or role scores each item (`owner`). The review queue, the
review service, the recorder and the entry form all read these rules from here, so that what a
page offers is exactly what the service then accepts.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.permissions import ROLE_ACTIONS
from kaoping.accounts.scoping import is_system, is_unrestricted
from kaoping.core.fields import ancestor_codes, subtree_q
from kaoping.people.models import Subject
from kaoping.regions.codes import LEVEL_DIGITS
from kaoping.regions.models import Department
from kaoping.schemes.models import Scheme, SchemeVersion

from .models import SealedSpan

DEPT_PREFIX, ROLE_PREFIX = "dept:", "role:"


def sealed() -> Exists:
    """True for an entry dated inside a finalised period of its scheme (a `SealedSpan`)."""
    return Exists(
        SealedSpan.objects.filter(
            scheme_id=OuterRef("scheme_id"),
            start__lte=OuterRef("occurred_on"),
            end__gte=OuterRef("occurred_on"),
        )
    )


def reviewed_schemes(user) -> dict[int, list[str]]:
    """Scheme id → the region codes under which `user` reviews that scheme's entries: where the
    user holds a role the scheme names as reviewer (county admins always). Two queries however
    many schemes there are; kept on the user object for the request."""
    if user is None or not user.is_authenticated:
        return {}
    cached = getattr(user, "_kaoping_reviewed_schemes", None)
    if cached is not None:
        return cached
    latest = SchemeVersion.objects.filter(scheme=OuterRef("pk")).order_by("-number").values("pk")
    versions = SchemeVersion.objects.filter(
        pk__in=Scheme.objects.annotate(latest=Subquery(latest[:1])).values("latest")
    )
    roles = [] if is_unrestricted(user) else _region_roles(user)
    found: dict[int, list[str]] = {}
    for version in versions:
        if is_unrestricted(user):
            found[version.scheme_id] = [""]  # every region
            continue
        reviewers = set(version.spec().reviewers())
        codes = [code for role, code in roles if role in reviewers]
        if codes:
            found[version.scheme_id] = codes
    user._kaoping_reviewed_schemes = found
    return found


def _region_roles(user) -> list[tuple[str, str]]:
    return [
        (role, code)
        for role, code in RoleAssignment.objects.filter(user=user).values_list(
            "role", "region__code"
        )
        if code
    ]


def entries_reviewable(entries: QuerySet, user) -> QuerySet:
    """The entries of `entries` that `user` may decide (whatever their status now): in scope
    for `entry.review`, of a scheme whose reviewers include a role the user holds over the
    subject, not recorded by the user, and not dated inside a finalised period."""
    if is_system(user):
        return entries.exclude(sealed())
    by_region: dict[str, list[int]] = {}
    for scheme_id, codes in reviewed_schemes(user).items():
        for code in codes:
            by_region.setdefault(code, []).append(scheme_id)
    if not by_region:
        return entries.none()
    condition = Q()
    for code, scheme_ids in by_region.items():
        condition |= Q(scheme_id__in=scheme_ids) & _subjects_under(code)
    return (
        entries.for_user(user, "entry.review")
        .filter(condition)
        .exclude(created_by=user)
        .exclude(sealed())
    )


# An area holding up to this many subjects has its entries found subject by subject.
SUBJECTS_ONE_BY_ONE = 20_000


def _subjects_under(code: str) -> Q:
    """Entries of subjects in the region `code`, in whichever of two ways reads less.

    A village or a county of a province-wide install has few subjects among many: their entries
    are found subject by subject (entry_subject_status_idx). Matched through the subject's
    region instead, the database reads the scheme's pending entries of the whole install in
    date order, passing over other counties' (a county's home count took 160 ms with another
    county's import of 100,000 waiting, 1 ms by subject). An area of more subjects than
    SUBJECTS_ONE_BY_ONE is most of the install: its pending entries are mostly its own, and the
    region match stops at the first page (or the to-do's bound) where probing every subject
    would not (25 ms for 100,000 subjects). Neither planner chooses between the two by itself:
    both take the form they are given."""
    subjects = Subject.objects.filter(subtree_q("region__code", code))
    if len(code) < LEVEL_DIGITS["village"] and subjects[SUBJECTS_ONE_BY_ONE:].exists():
        return subtree_q("subject__region__code", code)
    return Q(subject_id__in=subjects.values("pk"))


# -- who scores an item -------------------------------------------------------------------------


def department_codes(user) -> frozenset[str] | None:
    """The codes of the departments `user` records for, when a department is the only capacity
    in which it records; None when it records in another role too (or is unrestricted), so the
    items' owners do not narrow what it may record."""
    if user is None or not getattr(user, "is_authenticated", False) or is_unrestricted(user):
        return None
    cached = getattr(user, "_kaoping_department_codes", False)
    if cached is not False:
        return cached
    codes: set[str] = set()
    other = False
    for role, code in RoleAssignment.objects.filter(user=user).values_list(
        "role", "department__code"
    ):
        if role == Role.DEPARTMENT_SCORER:
            codes.add(code)
        elif "entry.record" in ROLE_ACTIONS.get(role, ()):
            other = True
    result = None if other or not codes else frozenset(codes)
    user._kaoping_department_codes = result
    return result


def department_may_score(departments: frozenset[str] | None, owner: str) -> bool:
    """Whether a department user (its `departments`, see `department_codes`) may record an item
    of this `owner`: items a scheme gives to a department (`dept:<code>`) go to that department
    only, items it gives to a role (`role:township_staff`) to no department; an item with no
    owner is anybody's who may record for the subject."""
    if departments is None or not owner:
        return True
    if owner.startswith(DEPT_PREFIX):
        return owner.removeprefix(DEPT_PREFIX) in departments
    return not owner.startswith(ROLE_PREFIX)


def owner_name(owner: str, region_code: str) -> str:
    """What users read for an item's owner: the department's name or the role's; "" when the
    county has no such department or the role is not one of ours (`role:branch_committee`)."""
    if owner.startswith(DEPT_PREFIX):
        code = owner.removeprefix(DEPT_PREFIX)
        name = (
            Department.objects.filter(
                county__code__in=[*ancestor_codes(region_code), region_code], code=code
            )
            .values_list("name", flat=True)
            .first()
        )
        return name or ""
    role = owner.removeprefix(ROLE_PREFIX)
    return str(Role(role).label) if role in Role.values else ""
