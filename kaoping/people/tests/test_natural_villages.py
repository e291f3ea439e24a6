"""Natural villages (自然村 / 村民小组) in the households import and on their pages: the import
column by name or code (optional, unknown names refused by row and column), the village's list
with household counts, renaming, the household's choice, and who may do what."""

import pytest
from django.urls import reverse

from kaoping.core.errors import ImportFailed
from kaoping.core.models import AuditLog
from kaoping.people.household_import import HEADERS
from kaoping.people.models import Household
from kaoping.people.natural_villages import household_natural_village_set, natural_village_save
from kaoping.people.services import households_import
from kaoping.regions.models import NaturalVillage
from kaoping.testing import make_id_number

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"
GRID1 = "330304001001001"
OLD_HEADER = ",".join(v for k, v in HEADERS.items() if k != "natural_village")
HEADER = ",".join(HEADERS.values())


@pytest.fixture
def groups(county):
    return {
        name: natural_village_save(
            village=county.region(DONGLING),
            acting_user=county.users["carol"],
            code=code,
            name=name,
            kind="group",
        )
        for code, name in (("01", "一组"), ("02", "二组"))
    }


def _csv(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_the_import_puts_households_in_natural_villages_by_name_or_code(county, groups):
    a, b, c = (make_id_number(n, "19700303") for n in (701, 702, 703))
    data = _csv(
        HEADER,
        f"H910001,{GRID1},是,钱一,男,{a},户主,,,,一组",
        f"H910001,{GRID1},否,孙二,女,{b},配偶,,,,",
        f"H910002,{GRID1},是,周三,男,{c},户主,,,,02",
    )
    households_import(data=data, filename="户籍.csv", acting_user=county.users["carol"])
    placed = dict(
        Household.objects.filter(number__startswith="H91").values_list(
            "number", "natural_village__name"
        )
    )
    assert placed == {"H910001": "一组", "H910002": "二组"}


def test_a_file_without_the_column_still_imports(county, groups):
    data = _csv(OLD_HEADER, f"H920001,{GRID1},是,钱一,男,{make_id_number(711)},户主,,,")
    households_import(data=data, filename="户籍.csv", acting_user=county.users["carol"])
    assert Household.objects.get(number="H920001").natural_village is None


def test_an_unknown_or_conflicting_natural_village_refuses_the_file(county, groups):
    a, b, c = (make_id_number(n, "19700303") for n in (721, 722, 723))
    data = _csv(
        HEADER,
        f"H930001,{GRID1},是,钱一,男,{a},户主,,,,四组",
        f"H930002,{GRID1},是,周三,男,{b},户主,,,,一组",
        f"H930002,{GRID1},否,孙二,女,{c},配偶,,,,二组",
    )
    with pytest.raises(ImportFailed) as refused:
        households_import(data=data, filename="户籍.csv", acting_user=county.users["carol"])
    named = {(e.row, e.field) for e in refused.value.errors}
    assert named == {(2, HEADERS["natural_village"]), (4, HEADERS["natural_village"])}
    assert "四组" in str(refused.value.errors[0].message)
    assert not Household.objects.filter(number__startswith="H93").exists()


def test_another_villages_group_name_is_unknown_here(county, groups):
    # 西溪村 keeps no 一组: the name is looked up in the household's own village.
    data = _csv(HEADER, f"H940001,330304002001001,是,钱一,男,{make_id_number(731)},户主,,,,一组")
    with pytest.raises(ImportFailed):
        households_import(data=data, filename="户籍.csv", acting_user=county.users["alice"])


def test_the_village_page_lists_them_and_the_secretary_adds_one(client_for, county, groups):
    household_natural_village_set(
        household=county.households[f"{DONGLING}0001"],
        natural_village=groups["一组"],
        acting_user=county.users["carol"],
    )
    client = client_for(county, "carol")
    region = client.get(reverse("console:region", args=[DONGLING]))
    assert reverse("people:natural_villages", args=[DONGLING]) in region.content.decode()
    url = reverse("people:natural_villages", args=[DONGLING])
    page = client.get(url)
    listed = [(n.code, n.household_count) for n in page.context["natural_villages"]]
    assert listed == [("01", 1), ("02", 0)]
    assert page.context["form"] is not None
    response = client.post(url, {"name": "上岙自然村", "kind": "natural", "code": "03"})
    assert response.status_code == 302
    made = NaturalVillage.objects.get(village__code=DONGLING, code="03")
    assert (made.name, made.kind) == ("上岙自然村", "natural")
    assert AuditLog.objects.filter(action="people.natural_village.saved").count() == 3
    # A taken code comes back on the form, nothing written.
    again = client.post(url, {"name": "别的", "kind": "group", "code": "03"})
    assert again.status_code == 200 and again.context["form"].errors["code"]
    edit = reverse("people:natural_village_edit", args=[made.pk])
    assert client.post(edit, {"name": "上岙", "kind": "natural"}).status_code == 302
    made.refresh_from_db()
    assert (made.name, made.code) == ("上岙", "03")


def test_the_committee_member_reads_the_list_but_cannot_add(client_for, county, groups):
    client = client_for(county, "clara")  # 村委委员: people.view, not people.change
    url = reverse("people:natural_villages", args=[DONGLING])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is None
    response = client.post(url, {"name": "三组", "kind": "group", "code": "03"})
    assert response.status_code == 200
    assert not NaturalVillage.objects.filter(code="03").exists()
    edit = reverse("people:natural_village_edit", args=[groups["一组"].pk])
    assert client.get(edit).status_code in (403, 404)
    # Another village's secretary does not see 东岭村's at all.
    assert client_for(county, "oscar").get(url).status_code == 404


def test_the_household_page_chooses_its_natural_village(client_for, county, groups):
    household = county.households[f"{DONGLING}0001"]
    url = reverse("people:household", args=[household.pk])
    client = client_for(county, "dave")  # the grid member of its grid
    page = client.get(url)
    assert page.context["natural_village_form"] is not None
    choices = list(page.context["natural_village_form"].fields["natural_village"].queryset)
    assert choices == [groups["一组"], groups["二组"]]
    post = reverse("people:household_natural_village", args=[household.pk])
    assert client.post(post, {"natural_village": groups["二组"].pk}).status_code == 302
    assert Household.objects.get(pk=household.pk).natural_village == groups["二组"]
    # A group of another village is not a valid choice: the page comes back with the error.
    other = NaturalVillage.objects.create(
        village=county.region("330304002001"), code="01", name="一组"
    )
    refused = client.post(post, {"natural_village": other.pk})
    assert refused.status_code == 200
    assert refused.context["natural_village_form"].errors
    assert Household.objects.get(pk=household.pk).natural_village == groups["二组"]
    # The villager sees its group but cannot change it.
    erin = client_for(county, "erin")
    mine = erin.get(url)  # erin's own household
    assert mine.status_code == 200 and mine.context["natural_village_form"] is None
    assert erin.post(post, {"natural_village": ""}).status_code in (403, 404)
    assert Household.objects.get(pk=household.pk).natural_village == groups["二组"]
