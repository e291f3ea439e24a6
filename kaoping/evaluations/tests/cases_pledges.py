"""Permission cases of `evaluations.pledges` (gathered by accounts' test_service_permissions,
where `w.evaluation` is the EvaluationWorld: 王建国 is a member of 东岭村党支部, carol's village).

oscar is the secretary of 西溪村: 东岭村's members and their pledges lie outside his area."""

from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import pledges
from kaoping.evaluations.models import MemberPledge


def _keep(w, actor):
    # The world has no pledge: one is made for the call, and undone with it when refused.
    with transaction.atomic():
        pledge = MemberPledge.objects.create(
            member=w.evaluation.member,
            year=timezone.localdate().year,
            text="帮助两户销售茶叶",
            created_by=system_actor(),
        )
        return pledges.pledge_keep(
            pledge=pledge, kept_on=timezone.localdate(), note="", acting_user=actor
        )


CASES = {
    "kaoping.evaluations.pledges.pledge_add": Case(
        "carol",
        "oscar",
        lambda w, a: pledges.pledge_add(
            member=w.evaluation.member,
            year=timezone.localdate().year,
            text="每月走访联系户",
            acting_user=a,
        ),
    ),
    "kaoping.evaluations.pledges.pledge_keep": Case("carol", "oscar", _keep),
}
