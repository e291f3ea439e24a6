import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaoping.regions.models import Region

pytestmark = pytest.mark.django_db


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")


def test_admin_imports_new_villages(county, client_for):
    response = client_for(county, "alice").post(
        reverse("regions:import"),
        {"file": upload("代码,名称\n330304002202,新村\n")},
        follow=True,
    )
    assert response.status_code == 200
    assert Region.objects.get(code="330304002202").parent.code == "330304002"


def test_errors_are_listed_by_row_and_nothing_is_written(county, client_for):
    before = Region.objects.count()
    response = client_for(county, "alice").post(
        reverse("regions:import"),
        {"file": upload("代码,名称\n330304002203,甲村\n33030400,乙村\n")},
    )
    assert [e.row for e in response.context["errors"]] == [3]
    assert Region.objects.count() == before


@pytest.mark.parametrize("username", ["bob", "carol", "erin"])
def test_others_may_not_import(county, client_for, username):
    before = Region.objects.count()
    response = client_for(county, username).post(
        reverse("regions:import"), {"file": upload("代码,名称\n330304002202,新村\n")}
    )
    assert response.status_code == 403
    assert Region.objects.count() == before
