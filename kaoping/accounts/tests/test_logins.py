"""Logins managed in the console: create, import, disable/enable and reset within one's own
scope and below one's own role; the forced password change; the password page for everyone."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from kaoping.accounts.models import Profile, Role, RoleAssignment
from kaoping.accounts.permissions import grantable_roles, may_grant
from kaoping.accounts.scoping import Refused
from kaoping.accounts.services import (
    login_create,
    login_password_reset,
    login_set_active,
    logins_import,
)
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.regions.models import Region

pytestmark = pytest.mark.django_db

User = get_user_model()
DONGLING = "330304001001"  # 东岭村, in bob's 东岭街道
XIXI = "330304002001"  # 西溪村, in 西溪镇: alice's, not bob's


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def other_county(county):
    """Another county, 330305, with one township: outside everyone's scope but root's."""
    top = Region.objects.create(code="330305", name="邻县", level="county")
    Region.objects.create(code="330305001", name="邻县街道", level="township", parent=top)
    return top


def workbook(rows, headers=("姓名", "手机号", "角色", "范围")) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot():
    return (
        list(User.objects.order_by("pk").values_list("username", "is_active", "password")),
        list(RoleAssignment.objects.order_by("pk").values_list("user_id", "role", "region_id")),
        list(Profile.objects.order_by("pk").values_list("user_id", "must_change_password")),
        AuditLog.objects.count(),
    )


# ─── creating one login ───


def test_alice_creates_a_login_in_scope_and_sees_its_password_once(county, client_for):
    client = client_for(county, "alice")
    response = client.post(
        reverse("accounts:new"),
        {"name": "陈新", "phone": "13911110001", "role": "village_secretary", "scope": XIXI},
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:issued")
    user = User.objects.get(username="13911110001")
    assert user.first_name == "陈新" and user.is_active and not user.is_staff
    assignment = user.role_assignments.get()
    assert (assignment.role, assignment.region.code) == ("village_secretary", XIXI)
    assert user.profile.must_change_password

    shown = client.get(reverse("accounts:issued"))
    password = shown.context["issued"][0]["password"]
    assert password in shown.content.decode() and user.check_password(password)
    assert shown["Cache-Control"] == "no-store"
    # Shown once: the page does not show it again.
    assert client.get(reverse("accounts:issued")).status_code == 302

    row = AuditLog.objects.get(action="accounts.login.created")
    assert row.actor == county.users["alice"] and row.region_code == XIXI
    assert password not in str(row.after)


def test_the_official_12_digit_code_and_a_unique_name_name_the_place(county):
    alice = county.users["alice"]
    user, _password = login_create(
        name="乡镇甲",
        phone="13911110002",
        role="township_staff",
        scope="330304001000",
        acting_user=alice,
    )
    assert user.role_assignments.get().region.code == "330304001"
    user, _password = login_create(
        name="网格乙",
        phone="13911110003",
        role="grid_member",
        scope="东岭村第2网格",
        acting_user=alice,
    )
    assert user.role_assignments.get().region.code == "330304001001002"


def test_alice_cannot_grant_outside_her_county(county, other_county, client_for):
    client = client_for(county, "alice")
    before = snapshot()
    response = client.post(
        reverse("accounts:new"),
        {"name": "外县", "phone": "13911110004", "role": "county_admin", "scope": "330305"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["scope"] == ["您的范围内没有区划“330305”。"]
    assert snapshot() == before


def test_a_role_goes_with_its_level_and_bad_fields_are_named(county):
    alice = county.users["alice"]
    with pytest.raises(KaopingError) as refused:
        login_create(
            name="王\u202e五",
            phone="2391",
            role="village_secretary",
            scope="330304001",
            acting_user=alice,
        )
    problems = refused.value.message_dict
    assert set(problems) == {"name", "phone", "scope"}
    assert "村党组织书记" in problems["scope"][0] and "东岭街道" in problems["scope"][0]
    assert "11 位" in problems["phone"][0]
    with pytest.raises(KaopingError) as taken:
        login_create(
            name="重名",
            phone="13911110001",
            role="grid_member",
            scope="330304001001001",
            acting_user=alice,
        )
        login_create(
            name="重号",
            phone="13911110001",
            role="grid_member",
            scope="330304001001001",
            acting_user=alice,
        )
    assert "已有" in taken.value.message_dict["phone"][0]


def test_bob_manages_his_township_only_and_nothing_above_his_role(county, client_for):
    bob = county.users["bob"]
    assert Role.COUNTY_ADMIN not in grantable_roles(bob)
    assert Role.TOWNSHIP_STAFF in grantable_roles(bob)  # a colleague of equal rank
    assert may_grant(bob, Role.VILLAGE_SECRETARY, DONGLING)
    assert not may_grant(bob, Role.VILLAGE_SECRETARY, XIXI)
    assert not may_grant(bob, Role.COUNTY_ADMIN, DONGLING)

    user, _password = login_create(
        name="南山委员",
        phone="13911110005",
        role="village_committee",
        scope="330304001002",
        acting_user=bob,
    )
    assert user.role_assignments.get().region.code == "330304001002"

    before = snapshot()
    with pytest.raises(KaopingError) as outside:
        login_create(
            name="西溪委员",
            phone="13911110006",
            role="village_committee",
            scope=XIXI,
            acting_user=bob,
        )
    assert outside.value.message_dict == {"scope": [f"您的范围内没有区划“{XIXI}”。"]}
    client = client_for(county, "bob")
    response = client.post(
        reverse("accounts:new"),
        {"name": "自封", "phone": "13911110007", "role": "county_admin", "scope": "330304"},
    )
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert snapshot() == before


def test_nobody_resets_or_disables_a_login_above_their_role(county):
    # A county admin's role placed (by root) on bob's township: bob's own area, above his rank.
    zed = User.objects.create_user(username="zed", password="pw")
    RoleAssignment.objects.create(
        user=zed, role=Role.COUNTY_ADMIN, region=county.region("330304001")
    )
    root = User.objects.create_superuser(username="root", password="pw")
    before = snapshot()
    with pytest.raises(Refused):
        login_password_reset(user=zed, acting_user=county.users["bob"])
    with pytest.raises(Refused):
        login_set_active(user=zed, active=False, acting_user=county.users["bob"])
    # …nor one reaching outside their area (alice's county), nor root.
    for target in (county.users["alice"], county.users["oscar"], root):
        with pytest.raises(Refused):
            login_password_reset(user=target, acting_user=county.users["bob"])
    with pytest.raises(Refused):
        login_password_reset(user=root, acting_user=county.users["alice"])
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["dave", "carol", "erin", None])
def test_who_manages_no_logins_is_refused_everywhere(county, client_for, persona):
    client = client_for(county, persona)
    carol = county.users["carol"]
    before = snapshot()
    pages = [
        ("get", reverse("accounts:list"), {}),
        ("get", reverse("accounts:new"), {}),
        ("get", reverse("accounts:import"), {}),
        ("get", reverse("accounts:import_template"), {}),
        (
            "post",
            reverse("accounts:new"),
            {
                "name": "某",
                "phone": "13911110008",
                "role": "grid_member",
                "scope": "330304001001001",
            },
        ),
        ("post", reverse("accounts:active", args=[carol.pk]), {"active": "0"}),
        ("post", reverse("accounts:reset", args=[carol.pk]), {}),
    ]
    for method, url, data in pages:
        response = getattr(client, method)(url, data)
        expected = 302 if persona is None else 403  # anonymous: to the sign-in page
        assert response.status_code == expected, url
    if persona is not None:
        with pytest.raises(Refused):
            login_create(
                name="某",
                phone="13911110008",
                role="grid_member",
                scope="330304001001001",
                acting_user=county.users[persona],
            )
    assert snapshot() == before


def test_the_list_shows_the_area_and_offers_what_may_be_done(county, client_for):
    response = client_for(county, "bob").get(reverse("accounts:list"))
    rows = {row["login"].username: row for row in response.context["rows"]}
    # bob's township: himself, carol, clara, dave, erin; not alice, oscar or grace.
    assert set(rows) == {"bob", "carol", "clara", "dave", "erin"}
    assert rows["carol"]["manageable"] and not rows["bob"]["manageable"]
    response = client_for(county, "alice").get(reverse("accounts:list"), {"q": "grace"})
    assert [row["login"].username for row in response.context["rows"]] == ["grace"]
    assert response.context["rows"][0]["manageable"]  # the department of alice's county


def test_a_login_out_of_scope_is_not_found(county, client_for):
    client = client_for(county, "bob")
    oscar = county.users["oscar"]
    assert client.post(reverse("accounts:reset", args=[oscar.pk])).status_code == 404
    assert (
        client.post(reverse("accounts:active", args=[oscar.pk]), {"active": "0"}).status_code == 404
    )
    assert User.objects.get(pk=oscar.pk).is_active


# ─── disable, enable, reset ───


def test_disable_and_enable_end_and_restore_sign_in(county, client_for, client):
    carol = county.users["carol"]
    alice = client_for(county, "alice")
    response = alice.post(reverse("accounts:active", args=[carol.pk]), {"active": "0"})
    assert response.status_code == 302
    assert not User.objects.get(pk=carol.pk).is_active
    client.logout()
    assert not client.login(username="carol", password="pw")
    client_for(county, "alice").post(reverse("accounts:active", args=[carol.pk]), {"active": "1"})
    assert client.login(username="carol", password="pw")
    actions = list(
        AuditLog.objects.filter(object_id=str(carol.pk)).values_list("action", flat=True)
    )
    assert sorted(actions) == ["accounts.login.disabled", "accounts.login.enabled"]


def test_nobody_disables_themselves(county):
    with pytest.raises(KaopingError):
        login_set_active(
            user=county.users["alice"], active=False, acting_user=county.users["alice"]
        )
    assert User.objects.get(username="alice").is_active


def test_a_reset_ends_the_old_password_and_its_sessions(county, client_for, client):
    carol = county.users["carol"]
    carol_client = client_for(county, "carol")
    assert carol_client.get(reverse("console:home")).status_code == 200

    from django.test import Client

    alice = Client()
    alice.force_login(county.users["alice"])
    response = alice.post(reverse("accounts:reset", args=[carol.pk]))
    assert response["Location"] == reverse("accounts:issued")
    password = alice.get(reverse("accounts:issued")).context["issued"][0]["password"]

    # carol's open session is over, her old password is gone, the new one must be changed.
    assert carol_client.get(reverse("console:home")).status_code == 302
    assert not carol_client.login(username="carol", password="pw")
    assert User.objects.get(pk=carol.pk).check_password(password)
    assert Profile.objects.get(user=carol).must_change_password
    row = AuditLog.objects.get(action="accounts.login.password_reset")
    assert row.actor == county.users["alice"] and password not in str(row.after)


# ─── the forced change and the password page ───


def test_a_new_login_must_change_its_password_first(county, client):
    _user, password = login_create(
        name="新人",
        phone="13911110009",
        role="grid_member",
        scope="330304001001001",
        acting_user=county.users["alice"],
    )
    response = client.post(reverse("login"), {"username": "13911110009", "password": password})
    assert response.status_code == 302
    # Every page leads to the password page until the password is changed; a menu fragment
    # loads nothing.
    change = reverse("accounts:password_change")
    for path in (reverse("console:home"), reverse("ledger:my_entries"), "/admin/"):
        assert client.get(path)["Location"] == change
    assert client.get(reverse("console:home"), headers={"HX-Request": "true"}).status_code == 204
    page = client.get(change)
    assert page.status_code == 200

    wrong = client.post(
        change,
        {"old_password": "nope", "new_password1": "Lan-2026-qiu", "new_password2": "Lan-2026-qiu"},
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]
    weak = client.post(
        change, {"old_password": password, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]

    done = client.post(
        change,
        {
            "old_password": password,
            "new_password1": "Lan-2026-qiu",
            "new_password2": "Lan-2026-qiu",
        },
    )
    assert done["Location"] == reverse("console:home")
    assert client.get(reverse("console:home")).status_code == 200  # still signed in, free to go
    assert not Profile.objects.get(user__username="13911110009").must_change_password
    assert AuditLog.objects.filter(action="accounts.password.changed").count() == 1
    client.logout()
    assert client.login(username="13911110009", password="Lan-2026-qiu")
    assert client.get(reverse("console:home")).status_code == 200  # no second forced change


def test_everyone_has_the_password_page(county, client_for):
    client = client_for(county, "erin")
    # The villager's home is their points page, under the same menu.
    assert "修改密码" in client.get(reverse("console:home"), follow=True).content.decode()
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "pw", "new_password1": "Erin-2026-hu", "new_password2": "Erin-2026-hu"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="erin").check_password("Erin-2026-hu")


# ─── the import ───


def test_import_a_good_file_creates_every_login(county, client_for):
    client = client_for(county, "alice")
    data = workbook(
        [
            ("张网格", "13911110010", "网格员", "330304001001002"),
            ("李书记", "13911110011", "村党组织书记", "南山社区"),  # by its unique name
            ("王评分", "13911110012", "department_scorer", "D01"),
        ]
    )
    upload = io.BytesIO(data)
    upload.name = "logins.xlsx"
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert response.status_code == 302
    issued = client.get(reverse("accounts:issued")).context["issued"]
    assert [i["username"] for i in issued] == ["13911110010", "13911110011", "13911110012"]
    for entry in issued:
        assert User.objects.get(username=entry["username"]).check_password(entry["password"])
    grace_like = User.objects.get(username="13911110012").role_assignments.get()
    assert grace_like.department == county.department
    assert AuditLog.objects.filter(action="accounts.login.created").count() == 3
    assert AuditLog.objects.get(action="accounts.logins.imported").after["created"] == 3


def test_a_bad_file_writes_nothing_and_names_each_row_and_column(county, client_for, other_county):
    login_create(
        name="已有",
        phone="13911110020",
        role="grid_member",
        scope="330304001001001",
        acting_user=county.users["alice"],
    )
    client = client_for(county, "bob")
    before = snapshot()
    data = workbook(
        [
            ("好人", "13911110021", "网格员", "330304001001002"),  # fine on its own
            ("", "139", "网格员", "330304001001002"),  # row 3: no name, bad number
            ("重号", "13911110021", "网格员", "330304001001002"),  # row 4: number of row 2
            ("外人", "13911110022", "村党组织书记", XIXI),  # row 5: not bob's village
            ("邻县", "13911110023", "网格员", "330305001"),  # row 6: another county
            ("越权", "13911110024", "县（区）管理员", "330304001"),  # row 7: wrong level
            ("乱填", "13911110025", "村长", "330304001001"),  # row 8: no such role
            ("已有", "13911110020", "网格员", "330304001001001"),  # row 9: the number is taken
        ]
    )
    upload = io.BytesIO(data)
    upload.name = "logins.xlsx"
    response = client.post(reverse("accounts:import"), {"file": upload})
    assert response.status_code == 200
    errors = [(e.row, e.field) for e in response.context["errors"]]
    assert errors == [
        (3, "姓名"),
        (3, "手机号"),
        (4, "手机号"),
        (5, "范围"),
        (6, "范围"),
        (7, "范围"),
        (8, "角色"),
        (9, "手机号"),
    ]
    page = response.content.decode()
    assert "发现 8 处问题，未导入任何数据" in page
    assert "第 2 行" in next(e.message for e in response.context["errors"] if e.row == 4)
    assert snapshot() == before


def test_the_template_says_how_and_imports_as_filled(county, client_for):
    client = client_for(county, "alice")
    response = client.get(reverse("accounts:import_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["姓名", "手机号", "角色", "范围"]
    notes = "\n".join(str(c.value) for row in book.worksheets[1].iter_rows() for c in row)
    assert "县（区）管理员" in notes and "户号" in notes
    sheet.append(["赵网格", "13911110030", "网格员", "330304001001001"])
    buffer = io.BytesIO()
    book.save(buffer)
    created = logins_import(
        data=buffer.getvalue(), filename="filled.xlsx", acting_user=county.users["alice"]
    )
    assert [user.username for user, _password in created] == ["13911110030"]


def test_an_empty_file_or_a_missing_column_is_refused(county):
    with pytest.raises(ImportFailed) as empty:
        logins_import(data=workbook([]), filename="x.xlsx", acting_user=county.users["alice"])
    assert empty.value.errors[0].row == 2
    with pytest.raises(ImportFailed) as header:
        logins_import(
            data=workbook([("a", "b")], headers=("姓名", "手机号")),
            filename="x.xlsx",
            acting_user=county.users["alice"],
        )
    missing = [e.message for e in header.value.errors if e.row == 1]
    assert len(missing) == 2 and "角色" in missing[0] and "范围" in missing[1]
