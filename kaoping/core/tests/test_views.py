"""`form_submit`: the posted form, the service call in the edge's transaction, the errors."""

import pytest
from django import forms
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import connection
from django.test import RequestFactory

from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.models import AuditLog
from kaoping.core.views import form_submit


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
