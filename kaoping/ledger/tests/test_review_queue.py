"""The review queue lists what its reader may decide, by scheme and item name, never inside a
finalised period (issue 16, item 7)."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry
from kaoping.ledger.services import entries_review, entry_record, ledger_seal, ledger_unseal
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load

from .ledger_fixture import GRID, HOUSEHOLD_SCHEME, add_reviewer, fill_grid, load_household_scheme

pytestmark = pytest.mark.django_db

OTHER_SCHEME = HOUSEHOLD_SCHEME.replace("code: hh", "code: civility").replace(
    "name: 农户积分", "name: 文明户评比"
)


@pytest.fixture
def hh(county):
    fill_grid(county, 9)
    scheme = load_household_scheme(county)
    add_reviewer(county)
    return scheme


@pytest.fixture
def civility(county, hh):
    version, _created = scheme_load(
        text=OTHER_SCHEME,
        filename="civility.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def households(n):
    return list(
        Subject.objects.filter(kind="household", region__code=GRID).order_by("household__number")
    )[:n]


def record(county, scheme, subject, *, by="dave", item="CLEAN", on=date(2026, 3, 5)):
    with transaction.atomic():
        entry, _created = entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            occurred_on=on,
            acting_user=county.users[by],
            source="collected",
        )
    return entry


def queue(client, **filters):
    response = client.get(reverse("ledger:review"), filters)
    assert response.status_code == 200
    return [e.pk for e in response.context["page"]]


def test_the_queue_lists_only_entries_its_reader_may_decide(county, client_for, hh):
    by_dave = [record(county, hh, s) for s in households(2)]
    by_alice = record(county, hh, households(3)[2], by="alice")
    rex = add_reviewer(county, "rex")
    rex.role_assignments.update(region=county.region("330304002001"))  # 西溪村's review group

    assert queue(client_for(county, "rita")) == [e.pk for e in [*by_dave, by_alice]]
    assert queue(client_for(county, "alice")) == [e.pk for e in by_dave]  # not her own
    # Township staff review villages, not households; rex reviews another village.
    assert queue(client_for(county, "bob")) == []
    assert queue(client_for(county, "rex")) == []
    assert queue(client_for(county, "bob"), status="all") == []

    # Everything listed is decided when approved: the refusal no longer comes after the click.
    listed = queue(client_for(county, "rita"))
    response = client_for(county, "rita").post(
        reverse("ledger:review"), {"entry": listed, "decision": "approve"}
    )
    assert [ok for _id, ok, _text, _what in response.context["outcomes"]] == [True] * len(listed)
    assert set(Entry.objects.values_list("status", flat=True)) == {"approved"}


def test_entries_inside_a_finalised_period_leave_the_queue_and_cannot_be_decided(
    county, client_for, hh
):
    january = record(county, hh, households(1)[0], on=date(2026, 1, 10))
    march = record(county, hh, households(2)[1], on=date(2026, 3, 5))
    with transaction.atomic():
        ledger_seal(scheme=hh, start=date(2026, 1, 1), end=date(2026, 1, 31), reason="p:2026-01")
    rita = client_for(county, "rita")
    assert queue(rita) == [march.pk]
    assert queue(rita, status="all") == [march.pk]

    with transaction.atomic():
        outcomes = entries_review(
            entry_ids=[january.pk], decision="approve", acting_user=county.users["rita"]
        )
    assert [o.outcome for o in outcomes] == ["sealed"]
    response = rita.post(reverse("ledger:review"), {"entry": [january.pk], "decision": "approve"})
    name = Entry.objects.select_related("subject").get(pk=january.pk).subject.name
    assert response.context["outcomes"] == [
        (january.pk, False, "所属周期已定稿，不再计分", f"{name} · 庭院整洁")
    ]
    assert Entry.objects.get(pk=january.pk).status == "submitted"
    # The recorder sees it marked on My entries.
    mine = client_for(county, "dave").get(reverse("ledger:my_entries"))
    assert {e.pk: e.lapsed for e in mine.context["page"]} == {january.pk: True, march.pk: False}
    assert mine.content.decode().count("所属周期已定稿，不再计分") == 1

    # Reopened, the period takes decisions again.
    with transaction.atomic():
        ledger_unseal(scheme=hh, reason="p:2026-01")
    assert queue(client_for(county, "rita")) == [january.pk, march.pk]


def test_the_queue_filters_by_scheme_and_by_item_name(county, client_for, hh, civility):
    clean = record(county, hh, households(1)[0])
    fight = record(county, hh, households(2)[1], item="FIGHT")
    other = record(county, civility, households(3)[2])
    rita = client_for(county, "rita")

    page = rita.get(reverse("ledger:review"))
    assert [s.name for s in page.context["schemes"]] == ["农户积分", "文明户评比"]
    html = page.content.decode()
    assert '<option value="civility">文明户评比</option>' in html
    assert html.count("文明户评比</td>") == 1  # the scheme column

    assert queue(rita, scheme="hh") == [clean.pk, fight.pk]
    assert queue(rita, scheme="civility") == [other.pk]
    assert queue(rita, item="整洁") == [clean.pk, other.pk]
    assert queue(rita, scheme="hh", item="打架") == [fight.pk]
    assert queue(rita, item="CLEAN") == []  # names, not codes
    suggestions = rita.get(reverse("ledger:review"), {"scheme": "hh"}).context["item_names"]
    assert suggestions == ["邻里互助", "庭院整洁", "打架斗殴"]


def queries(client, **filters) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("ledger:review"), filters)
    assert response.status_code == 200
    return len(captured), len(response.context["page"])


@pytest.mark.parametrize("username", ["rita", "alice"])
def test_the_queue_costs_the_same_queries_for_3_or_9_entries(
    county, client_for, hh, civility, username
):
    client = client_for(county, username)
    subjects = households(9)
    with transaction.atomic():
        ledger_seal(scheme=hh, start=date(2026, 1, 1), end=date(2026, 1, 31), reason="p:2026-01")
    counts = []
    for start, end in ((0, 3), (3, 9)):
        for subject in subjects[start:end]:
            record(county, hh, subject)
            record(county, civility, subject, item="HELP")
        counts.append(queries(client, item="庭"))  # 庭院整洁 only
        counts.append(queries(client, scheme="civility"))
    assert [n for _q, n in counts] == [3, 3, 9, 9]
    assert counts[0][0] == counts[2][0] and counts[1][0] == counts[3][0]
