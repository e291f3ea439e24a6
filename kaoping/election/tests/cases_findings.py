"""Permission cases of kaoping.election.findings (gathered by test_service_permissions): grace
works for 区委政法委 (D01), whose findings these are; bob (township staff of 东岭街道) covers the
villages but belongs to no department, so he is refused."""

from datetime import date

from kaoping.accounts.tests.permission_case import Case
from kaoping.election.findings import finding_withdraw, findings_import, findings_submit
from kaoping.election.models import FindingSource
from kaoping.election.tests.findings_helpers import HEADER, workbook


def _row(w) -> dict:
    zhao = w.county.persons["赵强"]
    return {
        "id_number": zhao.id_number,
        "name": zhao.name,
        "condition": "criminal",
        "hit": "否",
        "summary": "经查无刑事处罚记录",
        "found_on": date(2026, 9, 15),
        "document": "瓯政法〔2026〕21号",
    }


def _submit(w, actor):
    return findings_submit(
        round=w.election.round,
        department=w.county.department,
        rows=[_row(w)],
        source=FindingSource.API,
        acting_user=actor,
    )


def _import(w, actor):
    row = _row(w)
    values = [row[k] for k in ("id_number", "name", "condition", "hit", "summary")]
    values += [row["found_on"].isoformat(), row["document"]]
    return findings_import(
        round=w.election.round,
        department=w.county.department,
        data=workbook([values], header=HEADER),
        filename="查核.xlsx",
        acting_user=actor,
    )


CASES = {
    "kaoping.election.findings.findings_submit": Case("grace", "bob", _submit),
    "kaoping.election.findings.findings_import": Case("grace", "bob", _import),
    "kaoping.election.findings.finding_withdraw": Case(
        "grace", "bob", lambda w, a: finding_withdraw(finding=w.election.finding, acting_user=a)
    ),
}
