"""Who rates whom: the one definition of a campaign's rater pools (evaluations.spec.RaterPool).

Every page that offers a ballot, `ballots.ballot_cast` that accepts it, the codes printed for a
village and the response rate of a round's results read these functions, so a page never offers
what the service then refuses.

- branch_committee: logins holding a village secretary's or committee role whose scope covers the
  subject's village;
- branch_members: party members of the subject's branch (a party member subject) or of its
  village (a team, village or cadre subject), each through a personal code;
- masses_village: households of the subject's village, each through its code;
- masses_linked: the households a party member subject links (一联);
- panel: the round's judges.

Nobody rates themselves: a login whose person is the subject's person, a member's code for their
own subject, a household's code for a subject who lives in it. A rater who is a registered close
relative of the subject (`Person.relatives`) may rate; the ballot is flagged.
"""

from collections import Counter

from django.db.models import Q, QuerySet

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.fields import subtree_q
from kaoping.people.models import Household, PartyMember, Person, Subject, SubjectKind
from kaoping.regions.models import Region

from .models import RaterCode, Round
from .spec import Campaign, RaterPool, spec_of

# Roles that make a login one of a village's branch committee.
COMMITTEE_ROLES = (Role.VILLAGE_SECRETARY, Role.VILLAGE_COMMITTEE)

# Rater key prefixes (Ballot.rater_key).
USER, HOUSEHOLD, PERSON, PAPER = "user", "household", "person", "paper"


def campaign_of(round_: Round) -> Campaign:
    return spec_of(round_.plan.spec).campaign(round_.campaign)


def pool_of(round_: Round) -> RaterPool:
    return campaign_of(round_).raters


def village_code(subject: Subject) -> str:
    """The code of the village a subject belongs to (its region for every kind rated here)."""
    return subject.region.code[:12]


def campaign_subjects(plan, campaign: Campaign) -> QuerySet[Subject]:
    """The subjects a round of `campaign` rates: the active subjects of the plan's scheme's kind
    inside the plan's region (of the campaign's tracks, when it names some)."""
    subjects = Subject.objects.filter(
        subtree_q("region__code", plan.region.code),
        kind=plan.scheme.subject_kind,
        active=True,
    )
    if campaign.tracks:
        subjects = subjects.filter(track__in=campaign.tracks)
    if campaign.raters is RaterPool.MASSES_LINKED:
        subjects = subjects.filter(kind=SubjectKind.PARTY_MEMBER)
    return subjects.select_related("region", "person").order_by("region__code", "name", "id")


# -- codes (raters without an account) ----------------------------------------------------------


def code_raters(round_: Round) -> list[tuple[int, int | None, int | None]]:
    """(village id, household id, person id) of every rater who needs a code in `round_`."""
    pool = pool_of(round_)
    subjects = round_.subjects.select_related("region")
    villages = sorted({village_code(s) for s in subjects})
    if not villages:
        return []
    raters: list[tuple[int, int | None, int | None]] = []
    if pool is RaterPool.MASSES_VILLAGE:
        households = Household.objects.filter(_any_subtree("region__code", villages))
        rows = list(households.values_list("region__code", "pk"))
        region_ids = _village_ids(set(villages))
        raters += [(region_ids[code[:12]], pk, None) for code, pk in rows]
    elif pool is RaterPool.MASSES_LINKED:
        persons = [s.person_id for s in subjects if s.person_id]
        linked = dict(
            PartyMember.linked_households.through.objects.filter(partymember__person_id__in=persons)
            .values_list("household_id", "household__region__code")
            .distinct()
        )
        # A linked household may live in another village than its member's: its own village.
        region_ids = _village_ids({code[:12] for code in linked.values()})
        raters += [(region_ids[code[:12]], pk, None) for pk, code in linked.items()]
    elif pool is RaterPool.BRANCH_MEMBERS:
        members = PartyMember.objects.filter(_any_subtree("region__code", villages)).values_list(
            "region__code", "person_id"
        )
        region_ids = _village_ids(set(villages))
        raters += [(region_ids[code[:12]], None, person) for code, person in members]
    return raters


def _any_subtree(lookup: str, codes: list[str]) -> Q:
    condition = Q(pk__in=[])
    for code in codes:
        condition |= subtree_q(lookup, code)
    return condition


def _village_ids(codes: set[str]) -> dict[str, int]:
    """Village code → region id, in one query."""
    return dict(Region.objects.filter(code__in=codes).values_list("code", "pk"))


def subjects_for_code(round_: Round, code: RaterCode) -> QuerySet[Subject]:
    """The subjects the holder of `code` rates in `round_` (themselves left out)."""
    pool = pool_of(round_)
    subjects = round_.subjects.select_related("region", "person")
    if pool is RaterPool.MASSES_VILLAGE:
        subjects = subjects.filter(subtree_q("region__code", code.village.code))
        return subjects.exclude(person__household_id=code.household_id)
    if pool is RaterPool.MASSES_LINKED:
        return subjects.filter(person__party_member__linked_households=code.household_id).exclude(
            person__household_id=code.household_id
        )
    if pool is RaterPool.BRANCH_MEMBERS:
        member = PartyMember.objects.filter(person_id=code.person_id).first()
        if member is None:
            return subjects.none()
        same_branch = Q(kind=SubjectKind.PARTY_MEMBER, person__party_member__branch=member.branch)
        whole_village = ~Q(kind=SubjectKind.PARTY_MEMBER)
        return (
            subjects.filter(subtree_q("region__code", code.village.code))
            .filter(same_branch | whole_village)
            .exclude(person_id=code.person_id)
        )
    return subjects.none()


# -- logins -------------------------------------------------------------------------------------


def _committee_villages(user) -> list[str]:
    """Region codes where `user` holds a branch committee role (a village or above)."""
    return list(
        RoleAssignment.objects.filter(user=user, role__in=COMMITTEE_ROLES).values_list(
            "region__code", flat=True
        )
    )


def subjects_for_user(round_: Round, user) -> QuerySet[Subject]:
    """The subjects `user` rates with their login in `round_` (themselves left out)."""
    pool = pool_of(round_)
    subjects = round_.subjects.select_related("region", "person")
    person_id = getattr(getattr(user, "profile", None), "person_id", None)
    if person_id is not None:
        subjects = subjects.exclude(person_id=person_id)
    if pool is RaterPool.BRANCH_COMMITTEE:
        codes = _committee_villages(user)
        return subjects.filter(_any_subtree("region__code", codes)) if codes else subjects.none()
    if pool is RaterPool.PANEL:
        return subjects if round_.judges.filter(pk=user.pk).exists() else subjects.none()
    return subjects.none()


def user_rates_in(user) -> Q:
    """Rounds in which `user` may rate with their login (for their list of rounds to rate)."""
    codes = _committee_villages(user)
    committee = Q(pk__in=[])
    if codes:
        committee = Q(subjects__in=Subject.objects.filter(_any_subtree("region__code", codes)))
    return Q(judges=user) | committee


def rater_person_ids(*, user=None, code: RaterCode | None = None) -> set[int]:
    """The persons who stand behind a ballot: a login's person, a member's code's person, every
    member of a household's code. Used to spot close relatives."""
    if user is not None:
        person_id = getattr(getattr(user, "profile", None), "person_id", None)
        return {person_id} if person_id else set()
    if code is None:
        return set()
    if code.person_id:
        return {code.person_id}
    return set(Person.objects.filter(household_id=code.household_id).values_list("pk", flat=True))


def is_relative(subject: Subject, persons: set[int]) -> bool:
    """Whether one of `persons` is a registered close relative of the subject's person."""
    if subject.person_id is None or not persons:
        return False
    return Person.relatives.through.objects.filter(
        from_person_id=subject.person_id, to_person_id__in=persons
    ).exists()


def eligible_counts(round_: Round) -> Counter:
    """How many raters could rate each subject of `round_` (the denominator of the response
    rate): subject id → raters."""
    pool = pool_of(round_)
    counts: Counter = Counter()
    subjects = list(round_.subjects.select_related("region"))
    if pool is RaterPool.PANEL:
        judges = round_.judges.count()
        return Counter({s.pk: judges for s in subjects})
    if pool is RaterPool.BRANCH_COMMITTEE:
        assignments = list(
            RoleAssignment.objects.filter(role__in=COMMITTEE_ROLES).values_list(
                "region__code", "user_id"
            )
        )
        for subject in subjects:
            code = village_code(subject)
            users = {u for region, u in assignments if code.startswith(region)}
            counts[subject.pk] = len(users)
        return counts
    codes = list(round_.codes.select_related("village"))
    for subject in subjects:
        counts[subject.pk] = 0
    by_village: dict[str, list[RaterCode]] = {}
    for code in codes:
        by_village.setdefault(code.village.code, []).append(code)
    if pool is RaterPool.MASSES_VILLAGE:
        for subject in subjects:
            counts[subject.pk] = len(by_village.get(village_code(subject), []))
    elif pool is RaterPool.MASSES_LINKED:
        linked = Counter(
            PartyMember.linked_households.through.objects.filter(
                partymember__person_id__in=[s.person_id for s in subjects if s.person_id]
            ).values_list("partymember__person_id", flat=True)
        )
        for subject in subjects:
            counts[subject.pk] = linked.get(subject.person_id, 0)
    elif pool is RaterPool.BRANCH_MEMBERS:
        # (village id, branch) of every member, read once: a member rates their own branch.
        branch_of = {
            person: (region, branch)
            for person, region, branch in PartyMember.objects.filter(
                region_id__in={c.village_id for c in codes}
            ).values_list("person_id", "region_id", "branch")
        }
        for subject in subjects:
            village = by_village.get(village_code(subject), [])
            if subject.kind != SubjectKind.PARTY_MEMBER:
                counts[subject.pk] = len(village)
                continue
            own = branch_of.get(subject.person_id)
            counts[subject.pk] = sum(
                1
                for c in village
                if c.person_id != subject.person_id and own and branch_of.get(c.person_id) == own
            )
    return counts
