"""Permission cases of `evaluations.ballots` (gathered by accounts' test_service_permissions).

A login's ballot: carol sits on 东岭村's branch committee and rates 王建国; oscar, 西溪村's
secretary, is outside that pool (a refusal, 403). Paper ballots take `evaluation.paper` on the
subject: carol has it in 东岭村, oscar not there; each paper ballot carries its rater's code
(李秀英's, a member of 王建国's branch)."""

from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import ballots
from kaoping.evaluations.models import RaterCode

CASES = {
    "kaoping.evaluations.ballots.ballot_cast": Case(
        "carol",
        "oscar",
        lambda w, a: ballots.ballot_cast(
            round=w.evaluation.branch,
            subject=w.evaluation.subject,
            marks={"role": "好", "duty": "较好"},
            acting_user=a,
        ),
    ),
    "kaoping.evaluations.ballots.paper_ballots_enter": Case(
        "carol",
        "oscar",
        lambda w, a: ballots.paper_ballots_enter(
            round=w.evaluation.mutual,
            subject=w.evaluation.subject,
            ballots=[
                {
                    "code": RaterCode.objects.get(
                        round=w.evaluation.mutual, person__name="李秀英"
                    ).code,
                    "marks": {"overall": "4"},
                }
            ],
            acting_user=a,
        ),
    ),
}
