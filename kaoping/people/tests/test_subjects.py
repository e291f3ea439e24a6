import pytest

from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync

pytestmark = pytest.mark.django_db


def test_sync_creates_one_subject_per_scored_thing_once(county):
    assert subjects_sync(kind="village") == 3
    assert subjects_sync(kind="team") == 3
    assert subjects_sync(kind="household") == 8
    assert subjects_sync(kind="party_member") == 1
    assert subjects_sync(kind="cadre") == 2
    for kind in ("village", "team", "household", "party_member", "cadre"):
        assert subjects_sync(kind=kind) == 0
    household = Subject.objects.get(kind="household", household__number__endswith="0001")
    assert household.name == "王建国" and household.region.level == "grid" and household.active
    member = Subject.objects.get(kind="party_member")
    assert member.track == "A"
    assert Subject.objects.get(kind="team", region__code="330304001001").name == "东岭村“两委”班子"
