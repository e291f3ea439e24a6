"""Permission cases of `evaluations.meetings` (gathered by accounts' test_service_permissions,
where `w.evaluation` is the EvaluationWorld: 东岭村党支部's open meeting, carol's village).

oscar is the secretary of 西溪村: 东岭村's meetings lie outside his area."""

from django.utils import timezone

from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import meetings
from kaoping.people.models import PartyMember


def _zhang_wei(w) -> PartyMember:
    return PartyMember.objects.get(person=w.county.persons["张伟"])


CASES = {
    "kaoping.evaluations.meetings.meeting_open": Case(
        "carol",
        "oscar",
        lambda w, a: meetings.meeting_open(
            village=w.county.region("330304001001"),
            branch="东岭村党支部",
            scheme=w.evaluation.scheme,
            item_code="HD01",
            title="组织生活会",
            held_on=timezone.localdate(),
            acting_user=a,
        ),
    ),
    "kaoping.evaluations.meetings.meeting_sign_in_for": Case(
        "carol",
        "oscar",
        lambda w, a: meetings.meeting_sign_in_for(
            meeting=w.evaluation.meeting, member=_zhang_wei(w), acting_user=a
        ),
    ),
    "kaoping.evaluations.meetings.meeting_close": Case(
        "carol",
        "oscar",
        lambda w, a: meetings.meeting_close(meeting=w.evaluation.meeting, acting_user=a),
    ),
}
