"""The inbox pages: the user's messages, one message (read on opening), its attachment."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .selectors import message_get_mine, message_list_mine, unread_count
from .services import message_mark_read

PAGE_SIZE = 30


@login_required
def message_list(request):
    page = Paginator(message_list_mine(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "inbox/list.html",
        {"page": page, "unread": unread_count(user=request.user)},
    )


@login_required
def message_detail(request, pk: int):
    message = message_get_mine(user=request.user, pk=pk)
    if message is None:
        raise Http404
    if message.read_at is None:
        # Reading is the recipient's own business: no form, no audit row; one conditional update.
        with transaction.atomic(durable=True):
            message_mark_read(message=message, acting_user=request.user)
    link = message.url
    if link and not url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        link = ""  # only links inside the site are followed from a message
    return render(request, "inbox/detail.html", {"message": message, "link": link})


@login_required
def attachment(request, pk: int):
    message = message_get_mine(user=request.user, pk=pk)
    if message is None or not message.attachment:
        raise Http404
    try:
        handle = message.attachment.open("rb")
    except OSError:
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=message.attachment_name or "attachment"
    )


@login_required
def badge(request):
    """The unread count beside the menu link, loaded after the page (no cost to other pages)."""
    n = unread_count(user=request.user)
    if not n:
        return HttpResponse("")
    title = _("%(n)d unread messages") % {"n": n}
    return HttpResponse(format_html('<span class="tag badge" title="{}">{}</span>', title, n))
