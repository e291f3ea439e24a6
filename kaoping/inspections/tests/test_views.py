"""The inspector's pages: the list of units, drawing one, recording on the draw's page; who sees
what (read-only for the unit's own staff, masked names for readers who may not see households)."""

import pytest
from django.db import transaction

from kaoping.core.privacy import mask_name
from kaoping.inspections.models import Draw, DrawResult
from kaoping.inspections.services import draw_make
from kaoping.people.models import Household

from .helpers import SEED, grow_villages, sampling_scheme

pytestmark = pytest.mark.django_db

LABEL = "2026-03"


@pytest.fixture
def world(county):
    scheme = sampling_scheme(county)
    villages = grow_villages(county)
    return county, scheme, villages


def _drawn(scheme, subject, user):
    with transaction.atomic():
        return draw_make(
            scheme=scheme,
            period_label=LABEL,
            subject=subject,
            item_code="RJ",
            acting_user=user,
            seed=SEED,
        )


def test_the_township_draws_a_village_from_its_list(world, client_for):
    county, scheme, villages = world
    client = client_for(county, "bob")
    page = client.get(f"/inspections/?scheme={scheme.code}&item=RJ&label={LABEL}")
    assert page.status_code == 200
    units = page.context["rows"]
    assert [row.subject.name for row in units] == ["东岭村", "南山社区"]
    dongling = villages["330304001001"]
    answer = client.post(
        "/inspections/draw/",
        {"scheme": scheme.code, "item": "RJ", "label": LABEL, "subject": dongling.pk},
    )
    drawn = Draw.objects.get(subject=dongling)
    assert answer.status_code == 302 and answer["Location"] == f"/inspections/draws/{drawn.pk}/"
    assert drawn.size == 6 and drawn.drawn_by == county.users["bob"]
    listed = client.get(f"/inspections/?scheme={scheme.code}&item=RJ&label={LABEL}")
    assert f"/inspections/draws/{drawn.pk}/" in listed.content.decode()


def test_the_inspector_records_on_the_draw_page(world, client_for):
    county, scheme, villages = world
    drawn = _drawn(scheme, villages["330304001001"], county.users["bob"])
    client = client_for(county, "bob")
    page = client.get(f"/inspections/draws/{drawn.pk}/").content.decode()
    assert page.count('type="radio"') == 6 * 4  # not yet inspected + three levels, per member
    assert drawn.seed in page
    data = {f"m_{m}": "合格" for m in drawn.members[:5]} | {
        f"m_{drawn.members[5]}": "不合格",
        f"n_{drawn.members[5]}": "门前堆物",
    }
    answer = client.post(f"/inspections/draws/{drawn.pk}/", data)
    assert answer.status_code == 302
    assert DrawResult.objects.filter(draw=drawn).count() == 6
    assert DrawResult.objects.get(member=drawn.members[5]).note == "门前堆物"
    shown = client.get(f"/inspections/draws/{drawn.pk}/")
    assert str(shown.context["figure"]) == "83.3333"


def test_the_village_sees_its_draw_but_does_not_record(world, client_for):
    county, scheme, villages = world
    drawn = _drawn(scheme, villages["330304001001"], county.users["bob"])
    client = client_for(county, "carol")
    # Unannounced: 东岭村 does not see whom the township drew until all are inspected.
    assert client.get(f"/inspections/draws/{drawn.pk}/").status_code == 403
    refused = client.post(f"/inspections/draws/{drawn.pk}/", {f"m_{drawn.members[0]}": "合格"})
    assert refused.status_code == 403
    assert not DrawResult.objects.exists()
    inspector = client_for(county, "bob")
    inspector.post(f"/inspections/draws/{drawn.pk}/", {f"m_{m}": "合格" for m in drawn.members})
    client = client_for(county, "carol")
    page = client.get(f"/inspections/draws/{drawn.pk}/")
    assert page.status_code == 200 and 'type="radio"' not in page.content.decode()
    assert page.content.decode().count("合格") >= len(drawn.members)
    assert client_for(county, "oscar").get(f"/inspections/draws/{drawn.pk}/").status_code == 404
    assert client_for(county, "erin").get(f"/inspections/draws/{drawn.pk}/").status_code == 404
    # carol may not draw either: the button's post is refused, nothing drawn.
    before = Draw.objects.count()
    answer = client.post(
        "/inspections/draw/",
        {
            "scheme": scheme.code,
            "item": "RJ",
            "label": LABEL,
            "subject": villages["330304001002"].pk,
        },
    )
    assert answer.status_code in (403, 404) and Draw.objects.count() == before


def test_names_are_masked_for_readers_who_may_not_see_the_household(county, client_for):
    scheme = sampling_scheme(county)
    nanshan = grow_villages(county, {"330304001002": 2})["330304001002"]
    drawn = _drawn(scheme, nanshan, county.users["bob"])
    households = Household.objects.filter(region__code__startswith="330304001002")
    heads = sorted(h.head.name for h in households.select_related("head"))
    full = client_for(county, "bob").get(f"/inspections/draws/{drawn.pk}/")
    assert sorted(row.name for row in full.context["rows"]) == heads
    client_for(county, "bob").post(
        f"/inspections/draws/{drawn.pk}/", {f"m_{m}": "合格" for m in drawn.members}
    )
    masked = client_for(county, "grace").get(f"/inspections/draws/{drawn.pk}/")
    assert sorted(row.name for row in masked.context["rows"]) == sorted(map(mask_name, heads))
    for name in heads:
        assert name not in masked.content.decode()
