"""Permission cases of the persons' sheets' services (kaoping.election.sheets), gathered by
`kaoping/accounts/tests/test_service_permissions.py`: bob (township staff of 东岭街道) adds a
candidate of 东岭村 and marks the intention on 王建国's sheet; oscar (the secretary of 西溪村) may
do neither, nor may nobody."""

from kaoping.accounts.tests.permission_case import Case
from kaoping.election import sheets


def _candidate_add(w, a):
    # 张伟 lives in 东岭村's second grid and has no sheet yet.
    return sheets.candidate_add(
        round=w.election.round,
        id_number=w.county.persons["张伟"].id_number,
        acting_user=a,
        intended=True,
        intended_post="村委会主任",
    )


def _sheet_update(w, a):
    return sheets.sheet_update(
        sheet=w.election.sheet,
        acting_user=a,
        intended=True,
        intended_post="书记、主任",
        one_shoulder_intended=True,
        is_candidate=True,
    )


CASES = {
    "kaoping.election.sheets.candidate_add": Case("bob", "oscar", _candidate_add),
    "kaoping.election.sheets.sheet_update": Case("bob", "oscar", _sheet_update),
}
