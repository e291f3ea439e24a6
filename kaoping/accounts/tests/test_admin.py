"""The Django admin: the system superuser's alone, its sign-in throttled like /login/, and every
change made in it audited."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from kaoping.accounts.models import RoleAssignment
from kaoping.core.models import AuditLog
from kaoping.people.models import Person

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def root(county):
    return User.objects.create_superuser(username="root", email="", password="root-pw-2026")


def form_data(response) -> dict:
    """What the admin's change form would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else str(value)
    return data


@pytest.mark.parametrize("persona", ["alice", "bob", "dave"])
def test_the_admin_refuses_everyone_but_the_superuser_even_staff(county, client, persona):
    user = county.users[persona]
    user.is_staff = True  # a staff flag set by hand opens nothing
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    person = Person.objects.first()
    for path in (
        "/admin/",
        "/admin/people/person/?q=王",
        f"/admin/people/person/{person.pk}/change/",
        "/admin/accounts/roleassignment/add/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    before = (Person.objects.get(pk=person.pk).phone, RoleAssignment.objects.count())
    client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": user.pk, "role": "county_admin", "region": county.region("330304").pk},
    )
    client.post(f"/admin/people/person/{person.pk}/change/", {"name": "改名", "phone": "1"})
    assert (Person.objects.get(pk=person.pk).phone, RoleAssignment.objects.count()) == before
    assert not AuditLog.objects.exists()
    # The console's menu does not offer it either.
    assert "系统配置" not in client.get(reverse("console:home")).content.decode()


def test_only_the_superuser_signs_in_to_the_admin(county, root, client):
    alice = county.users["alice"]
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    refused = client.post("/admin/login/", {"username": "alice", "password": "pw"})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-pw-2026"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert "系统配置" in client.get(reverse("console:home")).content.decode()


def test_the_admin_sign_in_locks_after_five_wrong_passwords(county, root, client, settings):
    assert settings.LOGIN_MAX_FAILURES == 5
    for _ in range(5):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-pw-2026"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "失败次数过多" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_admin_and_the_console_sign_in_share_one_counter(county, root, client):
    for _ in range(3):
        client.post(reverse("login"), {"username": "root", "password": "wrong"})
    for _ in range(2):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    for path in (reverse("login"), "/admin/login/"):
        client.post(path, {"username": "root", "password": "root-pw-2026"})
        assert "_auth_user_id" not in client.session, path


def test_every_admin_change_writes_an_audit_row(county, root, client):
    client.force_login(root)
    person = Person.objects.get(name="赵强")  # 西溪村
    page = client.get(f"/admin/people/person/{person.pk}/change/")
    data = {**form_data(page), "phone": "13999999999"}
    response = client.post(f"/admin/people/person/{person.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    changed = AuditLog.objects.get(action="admin.people.person.changed")
    assert changed.actor == root and changed.object_id == str(person.pk)
    assert changed.before["phone"] == person.phone and changed.after["phone"] == "13999999999"
    assert changed.region_code == person.region.code

    oscar = county.users["oscar"]
    response = client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": oscar.pk, "role": "review_member", "region": county.region("330304002001").pk},
    )
    assert response.status_code == 302
    added = AuditLog.objects.get(action="admin.accounts.roleassignment.added")
    assert added.after["role"] == "review_member" and added.region_code == "330304002001"

    assignment = RoleAssignment.objects.get(user=oscar, role="review_member")
    response = client.post(
        f"/admin/accounts/roleassignment/{assignment.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = AuditLog.objects.get(action="admin.accounts.roleassignment.deleted")
    assert deleted.before["role"] == "review_member" and deleted.after is None

    # A user's password hash never reaches the audit log.
    page = client.get(f"/admin/auth/user/{oscar.pk}/change/")
    data = {**form_data(page), "first_name": "奥斯卡"}
    data.pop("password", None)
    joined = oscar.date_joined.astimezone()
    data.update(date_joined_0=f"{joined:%Y-%m-%d}", date_joined_1=f"{joined:%H:%M:%S}")
    response = client.post(f"/admin/auth/user/{oscar.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = AuditLog.objects.get(action="admin.auth.user.changed")
    assert row.after["first_name"] == "奥斯卡" and "password" not in row.after
    assert "password" not in (row.before or {})
