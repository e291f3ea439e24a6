"""The division-list import stays inside the importer's area (issue 19, item 4): a county admin
of 330304 may neither rename nor add anything in 330305, row by row, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed
from kaoping.core.models import AuditLog
from kaoping.regions.models import Region
from kaoping.regions.services import regions_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def neighbour(county):
    """The next county, 330305, with a township and a village, as another admin keeps it."""
    regions_import(
        rows=[
            (2, "330305000000", "龙湾区"),
            (3, "330305001000", "永中街道"),
            (4, "330305001001", "永中村"),
        ],
        acting_user=system_actor(),
    )
    return Region.objects.get(code="330305001001")


def snapshot():
    return sorted(Region.objects.values_list("code", "name", "initials"))


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")


def test_a_county_admin_cannot_rename_or_add_in_another_county(county, client_for, neighbour):
    before, audit = snapshot(), AuditLog.objects.count()
    response = client_for(county, "alice").post(
        reverse("regions:import"),
        {
            "file": upload(
                "代码,名称\n"
                "330304002202,新村\n"  # hers: fine on its own
                "330305001001,改名村\n"  # rename in 330305
                "330305001002,新建村\n"  # add under 330305's township
                "330306000000,新县\n"  # add a county above every region she holds
            )
        },
    )
    assert response.status_code == 200
    errors = response.context["errors"]
    assert [(e.row, str(e.field)) for e in errors] == [(3, "代码"), (4, "代码"), (5, "代码")]
    assert errors[0].message == "330305001001 不在您的管辖范围内，您不能修改。"
    assert "330305001002" in errors[1].message and "330306000000" in errors[2].message
    html = response.content.decode()
    assert "不在您的管辖范围内" in html and "<td>3</td>" in html
    # All or nothing: her own good row is not written either, and nothing is audited.
    assert snapshot() == before
    assert AuditLog.objects.count() == audit
    assert Region.objects.get(code="330305001001").name == "永中村"


def test_a_village_secretary_is_refused_before_any_row(county, client_for, neighbour):
    before = snapshot()
    response = client_for(county, "carol").post(
        reverse("regions:import"), {"file": upload("代码,名称\n330304001001,改名\n")}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_the_service_refuses_rows_outside_the_area_whoever_calls_it(county, neighbour):
    alice = county.users["alice"]
    before = snapshot()
    with pytest.raises(ImportFailed) as caught:
        regions_import(rows=[(7, "330305001001", "改名村")], acting_user=alice)
    assert [(e.row, e.field) for e in caught.value.errors] == [(7, "代码")]
    assert snapshot() == before
    # Inside her area the same import goes through, and the neighbour's admin may rename theirs.
    assert regions_import(rows=[(2, "330304002202", "新村")], acting_user=alice)["created"] == 1
    counts = regions_import(rows=[(2, "330305001001", "改名村")], acting_user=system_actor())
    assert counts["renamed"] == 1
