"""What every page that writes does with a posted form or a button: one helper for each, so the
views stay thin."""

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .errors import ImportFailed, KaopingError
from .models import Progress
from .progress import progress_visible

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
    _show(request, message(result) if callable(message) else message)
    return HttpResponseRedirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def action_submit(
    request: HttpRequest,
    call: Callable[[], T],
    *,
    redirect_to: str | Callable[[T], str],
    success: Message | Callable[[T], Message] = None,
    failed_to: str | None = None,
) -> HttpResponseRedirect:
    """Run `call()` for a posted button (no form to re-render) and redirect either way.

    The call runs in one durable transaction, as in `form_submit`. On success the message
    `success` (text, or `(level, text)`, or a function of the call's result giving either, or
    None for no message) is shown and the user is sent to `redirect_to` (or
    `redirect_to(result)`). A KaopingError undoes the call's writes, each of its messages is
    shown as an error and the user is sent to `failed_to`, by default `redirect_to` (which must
    then be a URL: there is no result to compute it from). PermissionDenied, including a
    service's refusal, propagates, and the user gets a 403.
    """
    if failed_to is None:
        if callable(redirect_to):
            raise TypeError("a redirect_to computed from the result needs failed_to")
        failed_to = redirect_to
    try:
        with transaction.atomic(durable=True):
            result = call()
    except PermissionDenied:
        raise
    except KaopingError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return HttpResponseRedirect(failed_to)
    _show(request, success(result) if callable(success) else success)
    return HttpResponseRedirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def _show(request: HttpRequest, shown: Message) -> None:
    if shown:
        level, text = shown if isinstance(shown, tuple) else (messages.SUCCESS, shown)
        messages.add_message(request, level, text)


def form_add_errors(
    form: forms.BaseForm, exc: KaopingError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Put the messages of `exc` on the fields of `form` they name, the rest above the form."""
    fields = fields or {}
    by_field = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for name, errors in by_field.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


def form_flash_errors(request: HttpRequest, form: forms.BaseForm) -> None:
    """Show the errors of a form posted from a button on another page (there is no form to
    re-render), each naming its field: "数量：这个字段是必填项。"."""
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


@require_GET
@login_required
def progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """How far one piece of long work has come (kaoping.core.progress): the page, the fragment
    it polls every second while the work runs (HTMX), or JSON. The starter's alone (and a
    superuser's): anyone else gets 404, as for an object out of their area."""
    progress = Progress.objects.filter(pk=pk).first()
    if progress is None or not progress_visible(progress, request.user):
        raise Http404
    stale = timezone.now() - timedelta(seconds=settings.LEASE_STALE_SECONDS)
    stalled = progress.status == Progress.Status.RUNNING and progress.updated_at < stale
    if request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    ):
        return JsonResponse(
            {
                "id": progress.pk,
                "kind": progress.kind,
                "label": progress.label,
                "status": progress.status,
                "done": progress.done,
                "total": progress.total,
                "percent": progress.percent,
                "message": progress.message,
                "url": progress.url,
                "error": progress.error,
                "stalled": stalled,
            }
        )
    context = {"progress": progress, "stalled": stalled}
    if request.headers.get("HX-Request"):
        response = render(request, "core/_progress.html", context)
        if progress.status == Progress.Status.DONE and progress.url:
            # The poll that sees the work done takes the page on to its result.
            response["HX-Redirect"] = progress.url
        return response
    return render(request, "core/progress.html", context)
