"""`form_submit` and `action_submit`: the posted form or button, the service call in the edge's
transaction, the errors."""

import pytest
from django import forms
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import connection
from django.test import RequestFactory
from django.urls import include, path

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.models import AuditLog
from kaoping.core.views import action_submit, form_flash_errors, form_submit


class NoteForm(forms.Form):
    title = forms.CharField(max_length=20)
    note = forms.CharField(required=False)


def posted(**data):
    request = RequestFactory().post("/", data)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request, NoteForm(request.POST)


def shown(request) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in messages.get_messages(request)]


def test_an_invalid_form_is_not_submitted():
    request, form = posted(note="no title")
    calls = []
    assert form_submit(request, form, calls.append, redirect_to="/done/") is None
    assert calls == [] and "title" in form.errors


@pytest.mark.django_db
def test_success_runs_the_call_in_a_durable_transaction_and_redirects_with_the_message():
    request, form = posted(title="t")
    seen = {}

    def call(data):
        seen["data"], seen["durable"] = data, connection.atomic_blocks[-1].durable
        return 7

    response = form_submit(
        request, form, call, redirect_to=lambda n: f"/items/{n}/", message=lambda n: f"saved {n}"
    )
    assert response.status_code == 302 and response["Location"] == "/items/7/"
    assert seen == {"data": {"title": "t", "note": ""}, "durable": True}
    assert shown(request) == [(messages.SUCCESS, "saved 7")]


@pytest.mark.django_db
def test_a_message_may_name_its_level():
    request, form = posted(title="t")
    form_submit(request, form, lambda d: 1, redirect_to="/", message=(messages.INFO, "again"))
    assert shown(request) == [(messages.INFO, "again")]


@pytest.mark.django_db
def test_a_refusal_lands_on_the_named_fields_and_undoes_the_writes():
    request, form = posted(title="t")

    def call(data):
        AuditLog.objects.create(action="test.written", object_type="test")
        raise KaopingError({"title": "taken", "body": "too long", "when": "too late"})

    response = form_submit(request, form, call, redirect_to="/", fields={"body": "note"})
    assert response is None
    assert form.errors["title"] == ["taken"]
    assert form.errors["note"] == ["too long"]  # renamed: the service says body, the form note
    assert form.errors[NON_FIELD_ERRORS] == ["too late"]  # no such field: above the form
    assert not AuditLog.objects.exists()
    assert shown(request) == []


@pytest.mark.django_db
def test_a_message_naming_no_field_goes_above_the_form_unless_renamed():
    request, form = posted(title="t")

    def refuse(data):
        raise KaopingError("no")

    assert form_submit(request, form, refuse, redirect_to="/") is None
    assert form.non_field_errors() == ["no"]
    request, form = posted(title="t")
    form_submit(request, form, refuse, redirect_to="/", fields={NON_FIELD_ERRORS: "title"})
    assert form.errors == {"title": ["no"]}


@pytest.mark.django_db
def test_import_row_errors_are_kept_for_the_page():
    request, form = posted(title="t")
    errors = [RowError(3, "code", "bad")]

    def call(data):
        raise ImportFailed(errors)

    assert form_submit(request, form, call, redirect_to="/") is None
    assert form.row_errors == errors


@pytest.mark.django_db
def test_permission_denied_is_not_a_form_error():
    class Refused(KaopingError, PermissionDenied):  # as accounts' refusal: also a 403
        pass

    for error in (PermissionDenied(), Refused("no")):
        request, form = posted(title="t")

        def call(data, error=error):
            raise error

        with pytest.raises(PermissionDenied):
            form_submit(request, form, call, redirect_to="/")


# -- action_submit: a button, no form ----------------------------------------------------------


def pressed():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.django_db
def test_an_action_runs_in_a_durable_transaction_and_redirects_with_the_message():
    request = pressed()
    seen = {}

    def call():
        seen["durable"] = connection.atomic_blocks[-1].durable
        AuditLog.objects.create(action="test.written", object_type="test")
        return 7

    response = action_submit(
        request,
        call,
        redirect_to=lambda n: f"/items/{n}/",
        success=lambda n: f"done {n}",
        failed_to="/items/",
    )
    assert response.status_code == 302 and response["Location"] == "/items/7/"
    assert seen == {"durable": True}
    assert AuditLog.objects.filter(action="test.written").count() == 1
    assert shown(request) == [(messages.SUCCESS, "done 7")]


@pytest.mark.django_db
def test_an_action_message_may_name_its_level_or_be_left_out():
    request = pressed()
    action_submit(request, lambda: False, redirect_to="/", success=(messages.INFO, "again"))
    assert shown(request) == [(messages.INFO, "again")]
    request = pressed()
    action_submit(request, lambda: False, redirect_to="/", success=lambda ok: "yes" if ok else None)
    assert shown(request) == []
    request = pressed()
    assert action_submit(request, lambda: 1, redirect_to="/")["Location"] == "/"
    assert shown(request) == []


@pytest.mark.django_db
def test_a_refused_action_undoes_its_writes_and_shows_every_message():
    request = pressed()

    def call():
        AuditLog.objects.create(action="test.written", object_type="test")
        raise KaopingError({"reason": "say why", "day": ["too late", "a holiday"]})

    response = action_submit(request, call, redirect_to="/back/", success="never shown")
    assert response.status_code == 302 and response["Location"] == "/back/"
    assert not AuditLog.objects.exists()
    assert shown(request) == [
        (messages.ERROR, "say why"),
        (messages.ERROR, "too late"),
        (messages.ERROR, "a holiday"),
    ]


@pytest.mark.django_db
def test_a_failed_action_goes_to_failed_to_when_there_is_one():
    def refuse():
        raise KaopingError("no")

    request = pressed()
    response = action_submit(
        request, refuse, redirect_to=lambda n: f"/items/{n}/", failed_to="/items/"
    )
    assert response["Location"] == "/items/"
    assert shown(request) == [(messages.ERROR, "no")]
    with pytest.raises(TypeError):  # no result to compute the page from, and no page given
        action_submit(pressed(), refuse, redirect_to=lambda n: f"/items/{n}/")


@pytest.mark.django_db
def test_a_refusal_of_the_action_is_a_403_not_a_message():
    for error in (PermissionDenied(), Refused()):  # Refused is also a KaopingError
        request = pressed()

        def call(error=error):
            AuditLog.objects.create(action="test.written", object_type="test")
            raise error

        with pytest.raises(PermissionDenied):
            action_submit(request, call, redirect_to="/", success="never shown")
        assert not AuditLog.objects.exists()
        assert shown(request) == []


def refused_view(request):
    def call():
        raise Refused()

    return action_submit(request, call, redirect_to="/", success="never shown")


# The product's own URLs beside it: the 403 page links home.
urlpatterns = [path("refused/", refused_view), path("", include("config.urls"))]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_refusal_by_the_service_answers_403(client):
    assert client.post("/refused/").status_code == 403


def test_flashed_form_errors_name_their_field():
    request, form = posted(note="no title")
    form.fields["title"].label = "标题"
    assert not form.is_valid()
    form_flash_errors(request, form)
    assert shown(request) == [(messages.ERROR, f"标题：{form.errors['title'][0]}")]
