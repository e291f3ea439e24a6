"""Variant links once each, rating choices in scale order."""

from pathlib import Path

import pytest
from django.urls import reverse

from kaoping.schemes.selectors import rating_labels, scheme_variants
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

SCHEMES = Path(__file__).resolve().parents[3] / "schemes"


def load(county, name):
    version, _created = scheme_load(
        text=(SCHEMES / f"{name}.yaml").read_text(encoding="utf-8"),
        filename=f"{name}.yaml",
        region=county.region("330304"),
        acting_user=county.users["alice"],
    )
    return version


def test_each_variant_is_linked_once_in_the_files_order(county, client_for):
    version = load(county, "party-member-points")
    assert scheme_variants(version=version) == ["A", "B", "C", "D", "E", "F"]
    html = (
        client_for(county, "alice")
        .get(reverse("periods:scheme", args=["party-member-points"]))
        .content.decode()
    )
    for name in "ABCDEF":
        assert html.count(f'variant={name}"') == 1, name


def test_rating_labels_follow_each_scale_from_the_best_down(county):
    assert rating_labels(version=load(county, "hong-huang-qi")) == [
        "好",
        "较好",
        "一般",
        "差",
        "满意",
        "基本满意",
        "不满意",
    ]
    assert rating_labels(version=load(county, "leitai-biwu"), variant="示范") == [
        "优秀",
        "良好",
        "一般",
        "较差",
    ]


def test_entry_form_offers_the_levels_in_scale_order(county):
    from kaoping.ledger.selectors import scheme_item_choices
    from kaoping.people.models import Subject
    from kaoping.people.services import subjects_sync

    version = load(county, "hong-huang-qi")
    subjects_sync(kind="village")
    village = Subject.objects.filter(kind="village").order_by("pk").first()
    _items, labels = scheme_item_choices(version=version, subject=village)
    assert [value for value, _label in labels][:4] == ["好", "较好", "一般", "差"]
