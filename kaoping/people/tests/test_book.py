"""The household book (一户一册): book_changes_apply for every kind, refusals, tags, book_of."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.people.models import (
    BookChange,
    HouseholdTag,
    HouseholdTagSpan,
    Person,
    Subject,
)
from kaoping.people.selectors import book_of, household_members
from kaoping.people.services import book_changes_apply, subjects_sync
from kaoping.testing import make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(county):
    household = county.users["erin"].role_assignments.get().household
    head = household.head
    spouse = household.members.exclude(pk=head.pk).get()
    county_region = county.region("330304")
    low = HouseholdTag.objects.create(region=county_region, name="低保", code="dibao")
    alone = HouseholdTag.objects.create(region=county_region, name="独居老人", code="alone")
    return county, household, head, spouse, low, alone


def everything_of_people() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (Person, BookChange, HouseholdTagSpan, AuditLog)
    }


def test_a_birth_and_a_move_in_add_members_with_their_change_rows(book):
    county, household, head, spouse, *_ = book
    carol = county.users["carol"]
    baby_id = make_id_number(321, "20250301")
    rows = book_changes_apply(
        household=household,
        changes=[
            {"kind": "born", "name": "王小宝", "id_number": baby_id, "relation": "子"},
            {
                "kind": "moved_in",
                "name": "赵丽",
                "gender": "F",
                "id_number": make_id_number(322, "19990909"),
                "relation": "儿媳",
                "phone": "13712345678",
            },
        ],
        acting_user=carol,
        visit_id=42,
    )
    assert [r.kind for r in rows] == ["born", "moved_in"]
    baby = rows[0].person
    assert (baby.household, baby.status, str(baby.birth_date)) == (
        household,
        "present",
        "2025-03-01",
    )
    assert baby.gender == "M"  # the 17th digit of serial 321 is odd
    assert all(r.visit_id == 42 and r.made_by == carol for r in BookChange.objects.all())
    audit = AuditLog.objects.get(action="people.book.changed")
    assert audit.after == {"changes": ["born", "moved_in"], "visit_id": 42}
    assert household_members(household=household).count() == 4


def test_away_returned_moved_out_and_died_move_the_status(book):
    county, household, head, spouse, *_ = book
    carol = county.users["carol"]
    book_changes_apply(
        household=household, changes=[{"kind": "away", "person": spouse}], acting_user=carol
    )
    assert Person.objects.get(pk=spouse.pk).status == "away"
    book_changes_apply(
        household=household, changes=[{"kind": "returned", "person": spouse.pk}], acting_user=carol
    )
    assert Person.objects.get(pk=spouse.pk).status == "present"
    book_changes_apply(
        household=household, changes=[{"kind": "moved_out", "person": spouse}], acting_user=carol
    )
    assert Person.objects.get(pk=spouse.pk).status == "moved_out"
    change = BookChange.objects.filter(kind="moved_out").get()
    assert change.fields == {"status": ["present", "moved_out"]}
    assert list(household_members(household=household)) == [head]


def test_the_head_dies_and_a_new_head_is_named_in_the_same_call(book):
    county, household, head, spouse, *_ = book
    carol = county.users["carol"]
    subjects_sync(kind="household")
    with pytest.raises(KaopingError) as refused:
        book_changes_apply(
            household=household, changes=[{"kind": "died", "person": head}], acting_user=carol
        )
    assert "户主" in str(refused.value.message_dict["head"])
    book_changes_apply(
        household=household,
        changes=[
            {"kind": "died", "person": head},
            {"kind": "edited", "fields": {"head": spouse.pk}},
        ],
        acting_user=carol,
    )
    household.refresh_from_db()
    assert household.head == spouse
    assert Subject.objects.get(kind="household", household=household).name == spouse.name
    edit = BookChange.objects.get(kind="edited")
    assert edit.person is None and edit.fields == {"head": [head.name, spouse.name]}


def test_an_edit_keeps_before_and_after_with_the_id_number_masked(book):
    county, household, head, *_ = book
    new_id = make_id_number(901, "19800101")
    [row] = book_changes_apply(
        household=household,
        changes=[
            {
                "kind": "edited",
                "person": head,
                "fields": {"phone": "13911112222", "id_number": new_id},
            }
        ],
        acting_user=county.users["dave"],
    )
    assert row.fields["phone"] == ["13800000001", "13911112222"]
    assert row.fields["id_number"][1] == new_id[:3] + "*" * 11 + new_id[-4:]
    assert new_id not in str(row.fields)
    assert Person.objects.get(pk=head.pk).id_number == new_id


def test_tags_keep_their_history(book):
    county, household, head, spouse, low, alone = book
    carol = county.users["carol"]
    today = timezone.localdate()
    book_changes_apply(
        household=household,
        changes=[{"kind": "tag_added", "tag": low}, {"kind": "tag_added", "tag": alone.pk}],
        acting_user=carol,
        on_date=today - timedelta(days=30),
        visit_id=7,
    )
    book_changes_apply(
        household=household, changes=[{"kind": "tag_removed", "tag": low}], acting_user=carol
    )
    book_changes_apply(
        household=household, changes=[{"kind": "tag_added", "tag": low}], acting_user=carol
    )
    spans = HouseholdTagSpan.objects.filter(tag=low).order_by("id")
    assert [(s.since, s.until) for s in spans] == [
        (today - timedelta(days=30), today),
        (today, None),
    ]
    assert spans[0].removed_by == carol and spans[0].visit_id == 7
    page = book_of(user=carol, household=household)
    assert {s.tag.name for s in page["tags"]} == {"低保", "独居老人"}
    assert len(page["tag_history"]) == 3


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            {"kind": "born", "name": "王小宝", "id_number": "330304202503010011", "relation": "子"},
            "id_number",
            "王小宝",
        ),
        (
            {"kind": "moved_in", "name": "赵丽", "gender": "F", "relation": "儿媳"},
            "id_number",
            "赵丽",
        ),
        ({"kind": "born", "name": "", "relation": "子", "gender": "M"}, "name", "姓名"),
        ({"kind": "edited", "person": "HEAD", "fields": {"phone": "12345"}}, "phone", "王建国"),
        ({"kind": "edited", "person": "HEAD", "fields": {"status": "dead"}}, "fields", "status"),
        ({"kind": "returned", "person": "HEAD"}, "status", "王建国"),
        ({"kind": "away", "person": "OTHER"}, "person", "2"),
        ({"kind": "tag_removed", "tag": "LOW"}, "tag", "低保"),
        ({"kind": "tag_added", "tag": "OLD"}, "tag", "不再使用"),
        (
            {
                "kind": "moved_in",
                "name": "重名",
                "gender": "F",
                "relation": "妻",
                "id_number": "SPOUSE",
            },
            "id_number",
            "已登记",
        ),
        ({"kind": "kidnapped"}, "kind", "kidnapped"),
    ],
)
def test_a_refused_change_names_member_and_field_and_writes_nothing(book, change, field, words):
    county, household, head, spouse, low, alone = book
    old = HouseholdTag.objects.create(region=low.region, name="旧标签", code="old", active=False)
    other = county.persons["赵强"]  # of 西溪村
    stand_in = {"HEAD": head, "OTHER": other, "LOW": low, "OLD": old, "SPOUSE": spouse.id_number}
    change = {k: stand_in.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    # A good change beside the bad one is not written either.
    changes = [{"kind": "tag_added", "tag": alone}, change]
    before = everything_of_people()
    with pytest.raises(KaopingError) as refused:
        book_changes_apply(household=household, changes=changes, acting_user=county.users["carol"])
    assert words in " ".join(refused.value.message_dict[field])
    assert everything_of_people() == before


def test_out_of_scope_and_read_only_personas_are_refused(book):
    county, household, head, *_ = book
    before = everything_of_people()
    for name in ("oscar", "clara", "erin", "grace"):
        with pytest.raises(Refused):
            book_changes_apply(
                household=household,
                changes=[{"kind": "away", "person": head}],
                acting_user=county.users[name],
            )
    assert everything_of_people() == before


def test_book_of_reads_in_a_fixed_number_of_queries(book):
    county, household, head, spouse, low, alone = book
    carol = county.users["carol"]

    def count() -> int:
        carol._kaoping_scopes = None
        with CaptureQueriesContext(connection) as queries:
            page = book_of(user=carol, household=household)
            for change in page["changes"]:
                _ = (change.made_by.username, change.person and change.person.name, change.tag)
            for span in page["tag_history"]:
                _ = (span.tag.name, span.added_by.username, span.removed_by)
        return len(queries)

    book_changes_apply(
        household=household, changes=[{"kind": "tag_added", "tag": low}], acting_user=carol
    )
    small = count()
    for n in range(5):
        book_changes_apply(
            household=household,
            changes=[
                {"kind": "born", "name": f"王{n}宝", "relation": "孙", "gender": "M"},
                {"kind": "tag_removed" if n % 2 == 0 else "tag_added", "tag": low},
                {"kind": "edited", "person": spouse, "fields": {"phone": f"1390000000{n}"}},
            ],
            acting_user=carol,
        )
    assert count() == small <= 7
    page = book_of(user=carol, household=household)
    assert page["members"][0] == head and len(page["members"]) == 7
    assert page["changes"][0].made_at >= page["changes"][-1].made_at


def test_a_villager_reads_only_their_own_book(book):
    county, household, *_ = book
    other = next(h for h in county.households.values() if h.pk != household.pk)
    erin = county.users["erin"]
    assert book_of(user=erin, household=household)["members"]
    assert book_of(user=erin, household=other)["members"] == []


def test_an_edit_to_the_same_values_keeps_no_row(book):
    county, household, head, *_ = book
    rows = book_changes_apply(
        household=household,
        changes=[{"kind": "edited", "person": head, "fields": {"phone": head.phone}}],
        acting_user=county.users["carol"],
    )
    assert rows == [] and not BookChange.objects.exists()
    assert not AuditLog.objects.filter(action="people.book.changed").exists()
