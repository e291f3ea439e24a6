"""Permission cases of the village file's services (kaoping.election.services), gathered by
`kaoping/accounts/tests/test_service_permissions.py`: bob (township staff of 东岭街道) records,
alice (county admin) manages, grace (D01, paired with 东岭村) records help visits; oscar (the
secretary of 西溪村) may do none of it. Every call is on 东岭村's file (`w.election.file`)."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.accounts.tests.permission_case import Case
from kaoping.election import services
from kaoping.election.models import StageReached

TODAY = timezone.localdate


def _result(w, a):
    # The result needs the election day reached: the stages are written in the same
    # transaction, so a refusal takes them back and nothing changes.
    with transaction.atomic():
        for stage in ("analysis", "vetting", "election_day"):
            StageReached.objects.create(
                file=w.election.file, stage=stage, reached_on=TODAY(), recorded_by=system_actor()
            )
        return services.result_record(
            file=w.election.file,
            elected_on=TODAY(),
            first_time_success=True,
            intent_realised=True,
            one_shoulder_done=True,
            acting_user=a,
        )


CASES = {
    "kaoping.election.services.stage_record": Case(
        "bob",
        "oscar",
        lambda w, a: services.stage_record(
            file=w.election.file, stage="analysis", reached_on=TODAY(), acting_user=a
        ),
    ),
    "kaoping.election.services.stage_undo": Case(
        "bob", "oscar", lambda w, a: services.stage_undo(file=w.election.file, acting_user=a)
    ),
    "kaoping.election.services.file_update": Case(
        "bob",
        "oscar",
        lambda w, a: services.file_update(
            file=w.election.file,
            acting_user=a,
            representatives_total=9,
            key_persons_total=3,
            party_members_total=20,
            one_shoulder_intended=True,
            help_plan="每周一次",
        ),
    ),
    "kaoping.election.services.key_village_set": Case(
        "alice",
        "oscar",
        lambda w, a: services.key_village_set(
            file=w.election.file,
            is_key=True,
            paired_department=w.election.petitions_department,
            acting_user=a,
        ),
    ),
    "kaoping.election.services.team_member_add": Case(
        "alice",
        "oscar",
        lambda w, a: services.team_member_add(
            file=w.election.file,
            role="district_leader",
            name="陈区长",
            unit="区政府",
            phone="13811112222",
            acting_user=a,
        ),
    ),
    "kaoping.election.services.team_member_remove": Case(
        "alice",
        "oscar",
        lambda w, a: services.team_member_remove(member=w.election.team_member, acting_user=a),
    ),
    "kaoping.election.services.help_visit_record": Case(
        "grace",
        "oscar",
        lambda w, a: services.help_visit_record(
            file=w.election.file, visited_on=TODAY(), note="帮助化解矛盾", acting_user=a
        ),
    ),
    "kaoping.election.services.issue_add": Case(
        "bob",
        "oscar",
        lambda w, a: services.issue_add(
            file=w.election.file,
            kind="qingdi",
            title="宅基地纠纷",
            owner="王建国",
            deadline=date(2026, 11, 30),
            acting_user=a,
        ),
    ),
    "kaoping.election.services.issue_clear": Case(
        "bob",
        "oscar",
        lambda w, a: services.issue_clear(issue=w.election.issue, done_on=TODAY(), acting_user=a),
    ),
    "kaoping.election.services.talk_record": Case(
        "bob",
        "oscar",
        lambda w, a: services.talk_record(
            file=w.election.file,
            category="representative",
            person_name="张三",
            held_on=TODAY(),
            acting_user=a,
        ),
    ),
    "kaoping.election.services.talk_remove": Case(
        "bob", "oscar", lambda w, a: services.talk_remove(talk=w.election.talk, acting_user=a)
    ),
    "kaoping.election.services.result_record": Case("bob", "oscar", _result),
}
