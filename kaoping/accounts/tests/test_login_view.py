import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def attempt(client, password):
    return client.post(reverse("login"), {"username": "carol", "password": password})


def test_good_login_goes_to_the_workbench(county, client):
    response = attempt(client, "pw")
    assert response.status_code == 302 and response["Location"] == reverse("console:home")


def test_repeated_failures_lock_the_account_for_that_address(county, client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert attempt(client, "wrong").status_code == 200
    response = attempt(client, "pw")  # even the right password is refused while locked
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert (
        response.context["form"]
        .errors["__all__"][0]
        .startswith(response.context["form"].error_messages["throttled"][:4])
    )


def test_password_hashing_is_argon2_in_production_settings():
    from config import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
