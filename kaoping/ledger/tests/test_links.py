"""Linked subjects (`linked:` items, docs/schemes.md 连带记分): the worked example closes to its
numbers through the services people use; carrying is all-or-nothing, once per source entry, and
undone with its source; the upload refuses what cannot link, at the file's line."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.ledger.carried import carried_annotate
from kaoping.ledger.models import Entry, EntrySource, EntryStatus, SealedSpan
from kaoping.ledger.services import entries_review, entry_record, entry_reverse
from kaoping.people.models import PartyMember, Subject
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.close_harness import rolled_back
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

pytestmark = pytest.mark.django_db

MEMBERS = ("王建国", "李秀英")
User = get_user_model()


def _load(county, text: str, filename: str = "docs.yaml"):
    version, _created = scheme_load(
        text=text, filename=filename, region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _world(county):
    """Both example schemes; 王建国 and 李秀英 party members linking 张伟's household."""
    source = _load(county, docs_example("linked-source-example"))
    PartyMember.objects.create(
        person=county.persons["李秀英"],
        region=county.region("330304001001"),
        branch="东岭村党支部",
        member_class="B",
    )
    receiver = _load(county, docs_example("linked-example"))
    household = county.persons["张伟"].household
    for name in MEMBERS:
        county.persons[name].party_member.linked_households.add(household)
    return source, receiver


def _household(county, name: str) -> Subject:
    return Subject.objects.get(kind="household", household=county.persons[name].household)


def _member(county, name: str) -> Subject:
    return Subject.objects.get(kind="party_member", person=county.persons[name])


def _approved(county, scheme, subject, item: str, day: date) -> Entry:
    """Recorded by the village secretary, approved by township staff, as on the pages."""
    # Fresh user objects: a user keeps the schemes it reviews for the request it serves, and
    # the property test loads the schemes anew (new ids on PostgreSQL) for every example.
    carol, bob = (User.objects.get(username=n) for n in ("carol", "bob"))
    entry, _created = entry_record(
        scheme=scheme,
        subject=subject,
        item_code=item,
        occurred_on=day,
        acting_user=carol,
    )
    assert entry.status == EntryStatus.SUBMITTED
    (outcome,) = entries_review(entry_ids=[entry.pk], decision="approve", acting_user=bob)
    assert outcome.outcome == "approved"
    entry.refresh_from_db()
    return entry


def _totals(scheme, label: str) -> dict[int, Decimal]:
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return {
        r.subject_id: Decimal(r.total) / period.version.scale
        for r in Result.objects.filter(period=period).select_related("period__version")
    }


def test_the_linked_example_in_the_docs_closes_to_its_numbers(county):
    source, receiver = _world(county)
    zhang, liu = _household(county, "张伟"), _household(county, "刘芳")
    wang, li = (_member(county, n) for n in MEMBERS)
    fx01 = _approved(county, source, zhang, "FX01", date(2026, 3, 5))
    fx02 = _approved(county, source, zhang, "FX02", date(2026, 3, 12))
    _approved(county, source, zhang, "HS01", date(2026, 3, 20))
    _approved(county, source, liu, "FX01", date(2026, 3, 8))

    carried = Entry.objects.filter(scheme=receiver, reverses__isnull=True)
    assert sorted((e.subject_id, e.carried_from_id) for e in carried) == sorted(
        (m.pk, s.pk) for m in (wang, li) for s in (fx01, fx02)
    )
    assert {(e.status, e.source, e.item_code, e.points) for e in carried} == {
        (EntryStatus.APPROVED, EntrySource.LINKED, "LH", Decimal("-2"))
    }
    assert {e.occurred_on for e in carried.filter(carried_from=fx02)} == {date(2026, 3, 12)}

    # A carried entry is corrected through its source only.
    with pytest.raises(KaopingError, match="张伟"):
        entry_reverse(
            entry=carried.filter(subject=wang).first(),
            reason="错了",
            acting_user=county.users["alice"],
        )
    entry_reverse(entry=fx02, reason="记错了", acting_user=county.users["bob"])
    undone = Entry.objects.filter(scheme=receiver, reverses__carried_from=fx02)
    assert sorted(e.subject_id for e in undone) == sorted([wang.pk, li.pk])

    households = _totals(source, "2026-03")
    assert households[zhang.pk] == Decimal("97")
    assert households[liu.pk] == Decimal("95")
    members = _totals(receiver, "2026-03")
    assert members[wang.pk] == Decimal("98")
    assert members[li.pk] == Decimal("98")


def test_a_carried_item_is_not_recorded_by_hand(county):
    _source, receiver = _world(county)
    with pytest.raises(KaopingError) as refused:
        entry_record(
            scheme=receiver,
            subject=_member(county, "王建国"),
            item_code="LH",
            occurred_on=date(2026, 3, 5),
            acting_user=county.users["bob"],
        )
    assert "item_code" in refused.value.message_dict


def test_an_approval_whose_carry_is_refused_writes_nothing(county):
    source, receiver = _world(county)
    zhang = _household(county, "张伟")
    # The members' March is finalised: nothing may be carried into it.
    SealedSpan.objects.create(
        scheme=receiver, start=date(2026, 3, 1), end=date(2026, 3, 31), reason="定稿"
    )
    entry, _created = entry_record(
        scheme=source,
        subject=zhang,
        item_code="FX01",
        occurred_on=date(2026, 3, 5),
        acting_user=county.users["carol"],
    )
    with pytest.raises(KaopingError, match="王建国|李秀英"):
        entries_review(entry_ids=[entry.pk], decision="approve", acting_user=county.users["bob"])
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED
    assert not Entry.objects.filter(scheme=receiver).exists()


def test_a_link_made_after_the_entry_counted_carries_nothing(county):
    source, receiver = _world(county)
    liu = _household(county, "刘芳")
    _approved(county, source, liu, "FX01", date(2026, 3, 8))
    county.persons["王建国"].party_member.linked_households.add(liu.household)
    _approved(county, source, liu, "FX02", date(2026, 3, 9))
    assert [e.carried_from.item_code for e in Entry.objects.filter(scheme=receiver)] == ["FX02"]


MEMBER_SCHEME = """
code: linked-bad
version: 1
name: 党员积分
subject_kind: {kind}
cadence: month
tree:
  - code: LH
    name: 连带
    rule: count
    points: -2
    linked: {{scheme: {scheme}, items: {items}, via: {via}}}
"""


@pytest.mark.parametrize(
    ("kind", "scheme", "items", "via", "line", "words"),
    [
        ("party_member", "nowhere", "[FX01]", "linked_households", 12, "nowhere"),
        ("party_member", "linked-source-example", "[FX09]", "linked_households", 12, "FX09"),
        ("village", "linked-source-example", "deductions", "linked_households", 12, "via"),
        ("team", "linked-source-example", "deductions", "village_team", 12, "linked_households"),
        ("party_member", "linked-bad", "deductions", "linked_households", 12, "linked-bad"),
    ],
)
def test_the_upload_refuses_what_cannot_link_at_its_line(
    county, kind, scheme, items, via, line, words
):
    _load(county, docs_example("linked-source-example"))
    text = MEMBER_SCHEME.format(kind=kind, scheme=scheme, items=items, via=via)
    with pytest.raises(SchemeError) as refused:
        _load(county, text, filename="bad.yaml")
    assert f"bad.yaml 第 {line} 行" in str(refused.value)
    assert words in str(refused.value) or via in str(refused.value)


def test_schemes_cannot_carry_in_a_circle(county):
    team = """
code: circle-team
version: 1
name: 班子
subject_kind: team
cadence: month
tree:
  - {code: T1, name: 班子扣分, rule: count, points: -1}
"""
    village = """
code: circle-village
version: 1
name: 村
subject_kind: village
cadence: month
tree:
  - code: V1
    name: 班子连带
    rule: count
    points: -1
    linked: {scheme: circle-team, items: deductions, via: village_team}
"""
    _load(county, team)
    _load(county, village)
    team2 = team.replace("version: 1", "version: 2") + (
        "  - code: T2\n    name: 村连带\n    rule: count\n    points: -1\n"
        "    linked: {scheme: circle-village, items: deductions, via: village_team}\n"
    )
    with pytest.raises(SchemeError) as refused:
        _load(county, team2)
    assert "circle-team → circle-village → circle-team" in str(refused.value)


# -- the property: per-member totals equal a count over the links ---------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_members_totals_equal_the_links_count(county, data):
    with rolled_back():
        source, receiver = _world(county)
        # 东岭村's four: its secretary records them, 东岭街道's staff review them.
        households = list(
            Subject.objects.filter(
                kind="household", region__code__startswith="330304001001"
            ).order_by("pk")
        )
        members = [_member(county, n) for n in MEMBERS]
        links = {
            (m.pk, h.pk): data.draw(st.booleans(), label=f"link {m.name} {h.pk}")
            for m in members
            for h in households
        }
        for member in members:
            member.person.party_member.linked_households.set(
                [h.household_id for h in households if links[(member.pk, h.pk)]]
            )
        events = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(households),
                    st.sampled_from(["FX01", "FX02", "HS01"]),
                    st.integers(1, 28),
                    st.booleans(),  # reversed afterwards
                ),
                max_size=6,
            ),
            label="events",
        )
        expected = {m.pk: Decimal(100) for m in members}
        for household, item, day, reverse in events:
            entry = _approved(county, source, household, item, date(2026, 3, day))
            if reverse:
                entry_reverse(
                    entry=entry, reason="更正", acting_user=User.objects.get(username="bob")
                )
            elif item != "HS01":
                for member in members:
                    if links[(member.pk, household.pk)]:
                        expected[member.pk] -= 2
        totals = _totals(receiver, "2026-03")
        assert {m.pk: totals[m.pk] for m in members} == expected


def test_pages_show_where_a_carried_entry_came_from(county, client):
    source, receiver = _world(county)
    zhang = _household(county, "张伟")
    wang = _member(county, "王建国")
    fx01 = _approved(county, source, zhang, "FX01", date(2026, 3, 5))
    carried = Entry.objects.get(carried_from=fx01, subject=wang)
    period = period_open(scheme=receiver, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())

    client.force_login(county.users["carol"])
    page = client.get(reverse("periods:explain", args=[period.pk, wang.pk])).content.decode()
    assert f'class="carried" data-source="{fx01.pk}"' in page
    assert f'/subjects/{zhang.pk}/?scheme={source.code}#entry-{fx01.pk}"' in page
    page = client.get(reverse("periods:subject", args=[zhang.pk])).content.decode()
    assert 'class="carried-to muted" data-count="2"' in page

    # Who may not see the household reads its name masked, without a link.
    entries = [carried]
    carried_annotate(entries, user=county.users["oscar"])
    shown = entries[0].carried_source
    assert shown.url is None and "张*" in shown.name and "张伟" not in shown.name
    carried_annotate(entries, user=county.users["carol"])
    assert "张伟" in entries[0].carried_source.name
