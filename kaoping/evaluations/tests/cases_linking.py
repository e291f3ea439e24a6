"""Permission cases of `evaluations.linking` (gathered by accounts' test_service_permissions,
where `w.evaluation` is the EvaluationWorld: 王建国 of 东岭村 links 张伟's and 刘芳's households).

oscar is the secretary of 西溪村: 东岭村's members lie outside his area. The before-close hook
`link_coverage_push` is internal (run by period_close, which checked `period.close`)."""

from django.utils import timezone

from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import linking

CASES = {
    "kaoping.evaluations.linking.link_service_record": Case(
        "carol",
        "oscar",
        lambda w, a: linking.link_service_record(
            member=w.evaluation.member,
            household=w.county.persons["张伟"].household,
            served_on=timezone.localdate(),
            note="走访",
            acting_user=a,
        ),
    ),
}
