"""What every page that writes does with a posted form: one helper, so the views stay thin."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect

from .errors import ImportFailed, KaopingError

T = TypeVar("T")

Message = str | tuple[int, str] | None


def form_submit(
    request: HttpRequest,
    form: forms.BaseForm,
    call: Callable[[dict[str, Any]], T],
    *,
    redirect_to: str | Callable[[T], str],
    message: Message | Callable[[T], Message] = None,
    fields: Mapping[str, str] | None = None,
) -> HttpResponseRedirect | None:
    """Validate the bound `form`, run `call(form.cleaned_data)` and redirect; None to re-render.

    The call runs in one durable transaction: the view is the edge, so it owns the transaction
    and the services it calls open plain savepoints. On success the message (text, or
    `(level, text)`, or a function of the call's result giving either) is shown and the user is
    sent to `redirect_to` (or to `redirect_to(result)`).

    A refusal comes back on the form: a KaopingError's messages land on the fields they name
    (renamed through `fields`, service name → form field; `NON_FIELD_ERRORS` may be renamed too)
    when the form has such a field, else above the form; an ImportFailed's row errors are kept
    in `form.row_errors` for the page's table. PermissionDenied is not a form error: it
    propagates, and the user gets a 403.
    """
    if not form.is_valid():
        return None
    try:
        with transaction.atomic(durable=True):
            result = call(form.cleaned_data)
    except PermissionDenied:
        raise
    except KaopingError as exc:
        form_add_errors(form, exc, fields=fields)
        return None
    except ImportFailed as exc:
        form.row_errors = exc.errors
        return None
    shown = message(result) if callable(message) else message
    if shown:
        level, text = shown if isinstance(shown, tuple) else (messages.SUCCESS, shown)
        messages.add_message(request, level, text)
    return HttpResponseRedirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def form_add_errors(
    form: forms.BaseForm, exc: KaopingError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Put the messages of `exc` on the fields of `form` they name, the rest above the form."""
    fields = fields or {}
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for name, errors in by_field.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, errors)
