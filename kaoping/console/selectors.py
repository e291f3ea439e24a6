"""Reads of the shell's pages (home, a region's page, search, the audit log), all scoped."""

from django.db.models import Case, Count, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for
from kaoping.accounts.scoping import restrict
from kaoping.core.fields import subtree_q
from kaoping.core.models import AuditLog
from kaoping.core.pinyin import first_letters, sound_matches, typed_spellings
from kaoping.people.models import Cadre, Household, PartyMember, Person, Subject, SubjectKind
from kaoping.regions.models import Level, Region
from kaoping.regions.selectors import region_children

SEARCH_LIMIT = 20
# Names that sound like the query, kept per list (the best first), and the distinct names of
# the right initial read to find them: a county's names starting with one letter fit well
# within it.
SOUND_LIMIT = 200
SOUND_CANDIDATES = 50_000


def scope_roots(user):
    """The regions a user starts from: the tops of the subtrees they may see."""
    if user.is_superuser:
        return list(Region.objects.filter(parent__isnull=True))
    codes = {scope.prefix for scope in scopes_for(user, "region.view")}
    # Drop codes already inside another scope, so a nested assignment is not listed twice.
    tops = {c for c in codes if not any(c != o and c.startswith(o) for o in codes)}
    return list(Region.objects.filter(code__in=tops).order_by("code"))


def children_with_counts(user, region):
    """Direct children the user may see, each with its number of households in scope."""
    children = region_children(user=user, region=region)
    counts: dict[str, int] = {}
    if region.level in (Level.TOWNSHIP, Level.VILLAGE, Level.COUNTY):
        # One grouped query: households by the child's code prefix (the child's code length).
        width = {Level.COUNTY: 9, Level.TOWNSHIP: 12, Level.VILLAGE: 15}[region.level]
        rows = (
            Household.objects.for_user(user, "people.view")
            .filter(subtree_q("region__code", region.code))
            .annotate(child=Substr("region__code", 1, width))
            .values("child")
            .annotate(n=Count("id"))
        )
        counts = {row["child"]: row["n"] for row in rows}
    return [(child, counts.get(child.code, 0)) for child in children]


def scope_counts(user) -> dict[str, int]:
    villages = Region.objects.for_user(user, "region.view").filter(level=Level.VILLAGE)
    return {
        "villages": villages.count(),
        "households": Household.objects.for_user(user, "people.view").count(),
        "persons": Person.objects.for_user(user, "people.view").count(),
        "party_members": PartyMember.objects.for_user(user, "people.view").count(),
    }


def _sounding(queryset, query: str, limit: int = SOUND_LIMIT) -> dict[str, int]:
    """{name: score} of the names in `queryset` that sound like `query` (core.pinyin): full
    pinyin ("zhangsan", "zhang san"), one typo, or other characters of the same sound. The
    database narrows the candidates to names of the right first initial (or none stored); the
    match runs over their distinct names."""
    keys = typed_spellings(query)
    if not keys:
        return {}
    initial = Q(initials="")
    for letter in first_letters(keys):
        initial |= Q(initials__startswith=letter)
    names = (queryset.filter(initial).order_by().values_list("name", flat=True).distinct())[
        :SOUND_CANDIDATES
    ]
    found = sound_matches(query, names)
    return dict(sorted(found.items(), key=lambda item: (item[1], item[0]))[:limit])


def _ranked(queryset, query: str, exact: Q):
    """`queryset` filtered to `exact` or a name that sounds like `query`, best matches first:
    what was typed (name, initials, code), then spelled so, alike in sound, one typo away."""
    sounding = _sounding(queryset, query)
    by_score: dict[int, list[str]] = {}
    for name, score in sounding.items():
        by_score.setdefault(score, []).append(name)
    rank = Case(
        When(exact, then=Value(0)),
        *(When(name__in=names, then=Value(score + 1)) for score, names in by_score.items()),
        default=Value(9),
    )
    return queryset.filter(exact | Q(name__in=list(sounding))).annotate(match_rank=rank)


def search(user, query: str) -> dict:
    """Regions by name, pinyin (initials, full, one typo, same sound) or code; persons the same
    way, each with the party member and cadre profiles the user may open; households by number."""
    lowered = query.lower()
    regions = _ranked(
        Region.objects.for_user(user, "region.view"),
        query,
        Q(name__contains=query)
        | Q(initials__startswith=lowered)
        | Q(code__startswith=query.rstrip("0") or query),
    ).order_by("match_rank", "code")[:SEARCH_LIMIT]
    profiles = Subject.objects.for_user(user, "entry.view").filter(
        kind__in=[SubjectKind.PARTY_MEMBER, SubjectKind.CADRE]
    )
    persons = (
        _ranked(
            Person.objects.for_user(user, "people.view"),
            query,
            Q(name__contains=query) | Q(initials__startswith=lowered),
        )
        .select_related("household", "region")
        .prefetch_related(
            Prefetch(
                "party_member",
                queryset=PartyMember.objects.for_user(user, "people.view").select_related("region"),
            ),
            Prefetch(
                "cadre_posts",
                queryset=Cadre.objects.for_user(user, "people.view")
                .select_related("region")
                .order_by("region__code", "post"),
                to_attr="posts",
            ),
            Prefetch("subjects", queryset=profiles.order_by("kind"), to_attr="profiles"),
        )
        .order_by("match_rank", "name", "id")[:SEARCH_LIMIT]
    )
    households = (
        Household.objects.for_user(user, "people.view")
        .filter(number__startswith=query)
        .select_related("head", "region")
        .order_by("number")[:SEARCH_LIMIT]
    )
    return {
        "regions": list(regions),
        "persons": [_with_profiles(p) for p in persons],
        "households": list(households),
    }


def _with_profiles(person: Person) -> Person:
    """Attach `person.roles`: (label, place, subject or None) for each party membership and
    cadre post in scope, the subject being the scored profile to link to when the user may
    open it."""
    subjects = {s.kind: s for s in person.profiles}
    roles = []
    member = getattr(person, "party_member", None)
    if member is not None:
        label = _("party member, class %(c)s") % {"c": member.member_class}
        roles.append((label, member.region, subjects.get(SubjectKind.PARTY_MEMBER)))
    for post in person.posts:
        roles.append((post.get_post_display(), post.region, subjects.get(SubjectKind.CADRE)))
    person.roles = roles
    return person


def audit_log_list(
    *, user, region: str = "", actor: str = "", action: str = ""
) -> QuerySet[AuditLog]:
    """The audit rows `user` may read, newest first, filtered by region code prefix, actor's
    username and action prefix (each when given)."""
    rows = restrict(AuditLog.objects.all(), user, "audit.view").select_related("actor")
    if region:
        rows = rows.filter(subtree_q("region_code", region))
    if actor:
        rows = rows.filter(actor__username=actor)
    if action:
        rows = rows.filter(action__startswith=action)
    return rows
