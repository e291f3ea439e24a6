"""Reads of 一联二亮: the members a user keeps services and pledges for, their coverage, their
linked households, recent services, pledges; and the member's public card on the posting pages.

Staff in scope see their members' full names (they keep their records); households appear by
number with the head's name masked; the public card shows the member's name masked.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, QuerySet

from kaoping.core.fields import subtree_q
from kaoping.core.privacy import mask_name
from kaoping.people.models import Household, PartyMember

from .linking import Coverage, household_label, member_coverage, village_coverage
from .models import LinkService, MemberPledge

SERVICE_ACTION = "evaluation.service"
RECENT_SERVICES = 20
# Members by the pinyin initials of their names (as a village's roll is read), then by name.
MEMBER_ORDER = ("person__initials", "person__name", "pk")


def service_members(user) -> QuerySet:
    """The party members whose services and pledges `user` records."""
    return PartyMember.objects.for_user(user, SERVICE_ACTION)


@dataclass
class VillageRow:
    code: str
    name: str
    members: int
    coverage: Coverage


def villages_of(user, *, start: date, end: date) -> list[VillageRow]:
    """Each village of the user's members: its members and their coverage in [start, end]. Two
    queries, whatever the number of villages."""
    members = service_members(user)
    counts = (
        members.order_by()
        .values_list("region__code", "region__name")
        .annotate(n=Count("pk"))
        .order_by("region__code")
    )
    figures = village_coverage(members, start=start, end=end)
    return [
        VillageRow(code, name, n, figures.get(code, Coverage(0, 0))) for code, name, n in counts
    ]


@dataclass
class MemberRow:
    member: PartyMember
    coverage: Coverage


def members_of_village(user, code: str, *, start: date, end: date) -> list[MemberRow]:
    """The user's members of the village `code`, by name, with their coverage: two queries."""
    members = service_members(user).filter(region__code=code)
    figures = member_coverage(members, start=start, end=end)
    rows = members.select_related("person", "region").order_by(*MEMBER_ORDER)
    return [MemberRow(m, figures.get(m.pk, Coverage(0, 0))) for m in rows]


def linked_households(member: PartyMember) -> list[tuple[int, str]]:
    """(household id, "张*家 · address") of the households `member` links, by number."""
    households = (
        Household.objects.filter(linked_party_members=member)
        .select_related("head")
        .order_by("number")
    )
    return [(h.pk, household_label(h)) for h in households]


def recent_services(user, *, village: str = "", limit: int = RECENT_SERVICES) -> list:
    """The latest services the user may see (in one village when `village` is given)."""
    services = LinkService.objects.for_user(user, SERVICE_ACTION)
    if village:
        services = services.filter(subtree_q("member__region__code", village))
    services = services.select_related(
        "member__person", "member__region", "household__head", "recorded_by"
    ).order_by("-served_on", "-id")[:limit]
    rows = list(services)
    for row in rows:
        row.household_label = household_label(row.household)
    return rows


def pledges_by_member(members, year: int) -> dict[int, list[MemberPledge]]:
    """{member id: that year's pledges, in the order made}: one query."""
    found: dict[int, list[MemberPledge]] = {}
    pledges = MemberPledge.objects.filter(member__in=members, year=year).order_by("id")
    for pledge in pledges:
        found.setdefault(pledge.member_id, []).append(pledge)
    return found


# --- the public card ---------------------------------------------------------------------------


@dataclass
class PledgeLine:
    text: str
    kept_on: date | None


@dataclass
class MemberCard:
    """What the posting pages show of a party member: nothing that is not public."""

    name: str  # masked: 王*国
    branch: str
    village: str
    year: int
    pledges: list[PledgeLine] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return sum(1 for p in self.pledges if p.kept_on is not None)


def member_card(subject, *, year: int) -> MemberCard | None:
    """The public card of the party member `subject` is (a Subject of kind party_member) for
    `year`, or None when it is no member. Two queries."""
    if subject.person_id is None:
        return None
    member = (
        PartyMember.objects.filter(person_id=subject.person_id)
        .select_related("person", "region")
        .first()
    )
    if member is None:
        return None
    pledges = MemberPledge.objects.filter(member=member, year=year).order_by("id")
    return MemberCard(
        name=mask_name(member.person.name),
        branch=member.branch,
        village=member.region.name,
        year=year,
        pledges=[PledgeLine(p.text, p.kept_on) for p in pledges],
    )
