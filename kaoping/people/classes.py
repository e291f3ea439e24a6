"""A party member's class (类别): A–F by default, or any class a county names (正式党员, 预备党员,
入党积极分子…). The class is the subject's track: the variant of the party-member schemes it is
scored with, the group it is ranked in, and what grades and consequences limited to classes
look at (docs/schemes.md §10).

A class is checked for its form only (one line, at most 32 characters, no invisible
characters: what a scheme's variant name may be), not against the schemes' variants: a class
may have no variant of its own (it is then scored with the scheme's default tree, as class C is
in the shipped scheme), the schemes in force change from year to year while the register
stays, and the register sits below the schemes (it may not read them). The edit form offers the
classes already in use in the county besides A–F, so that a class is not mistyped.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.limits import name_problem

from .models import MemberClass, PartyMember, Subject, SubjectKind

CLASS_MAX = 32  # people.Subject.track, and a scheme's variant name


def member_class_problem(value: str) -> str | None:
    """Why `value` cannot be a class, or None."""
    if not value:
        return _("Give the class: A to F, or a class the county's schemes name.")
    if value != value.strip():
        return _("The class cannot start or end with a space.")
    if len(value) > CLASS_MAX:
        return _("The class has at most %(n)d characters.") % {"n": CLASS_MAX}
    if problem := name_problem(value):
        return _("The class %(problem)s.") % {"problem": problem}
    return None


def member_classes_in_use(region_code: str) -> list[str]:
    """A–F, then every other class the party members under `region_code` have, sorted."""
    used = set(
        PartyMember.objects.filter(region__code__startswith=region_code)
        .values_list("member_class", flat=True)
        .distinct()
    )
    defaults = [c.value for c in MemberClass]
    return defaults + sorted(used - set(defaults))


def party_member_class_set(*, member: PartyMember, member_class: str, acting_user) -> PartyMember:
    """Put `member` in `member_class`, and its subject on that track (from the next close on, it
    is scored, ranked and graded as one of that class; closed periods keep their results)."""
    ensure(acting_user, "people.change", member)
    member_class = (member_class or "").strip()
    if problem := member_class_problem(member_class):
        raise KaopingError({"member_class": problem})
    with transaction.atomic():
        locked = PartyMember.objects.select_for_update().select_related("region").get(pk=member.pk)
        before = locked.member_class
        if before == member_class:
            return locked
        PartyMember.objects.filter(pk=locked.pk).update(member_class=member_class)
        Subject.objects.filter(kind=SubjectKind.PARTY_MEMBER, person_id=locked.person_id).update(
            track=member_class
        )
        audit_record(
            actor=acting_user,
            action="people.party_member.class_changed",
            obj=locked,
            region_code=locked.region.code,
            before={"member_class": before},
            after={"member_class": member_class},
        )
    locked.member_class = member_class
    return locked
