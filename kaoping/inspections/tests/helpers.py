"""A county with the docs' `sampling-example` loaded and its villages grown to the example's sizes
(东岭村 58 households, 南山社区 23, 西溪村 3), for the inspections' tests and the permission cases."""

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Household, Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.schemes.services import scheme_load

SIZES = {"330304001001": 58, "330304001002": 23, "330304002001": 3}
SEED = "sampling-example-seed"


def sampling_scheme(county, text: str | None = None):
    version, _created = scheme_load(
        text=text or docs_example("sampling-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def grow_villages(county, sizes: dict[str, int] = SIZES) -> dict[str, Subject]:
    """Add households (no head) until each village has its size; the village subjects by code."""
    for code, size in sizes.items():
        region = county.region(code)
        have = Household.objects.filter(region__code__startswith=code).count()
        Household.objects.bulk_create(
            Household(region=region, number=f"{code}9{i:03d}", address=f"{region.name}{i}号")
            for i in range(have, size)
        )
    subjects_sync(kind="village")
    return {code: Subject.objects.get(kind="village", region__code=code) for code in sizes}


def sampling_world(county):
    """The example scheme and a draw of 东岭村 (its 4 households, all drawn), made by the system:
    what the permission cases act on (kaoping/accounts/tests/test_service_permissions.py)."""
    from django.db import transaction

    from kaoping.inspections.services import draw_make

    scheme = sampling_scheme(county)
    subjects_sync(kind="village")
    with transaction.atomic():
        return draw_make(
            scheme=scheme,
            period_label="2026-03",
            subject=Subject.objects.get(kind="village", region__code="330304001001"),
            item_code="RJ",
            acting_user=system_actor(),
            seed=SEED,
        )
