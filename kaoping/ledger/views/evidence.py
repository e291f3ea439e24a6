"""Evidence attached after the fact: an entry that awaits it (an imported row of an item that
needs a photo) gets its files here, through the one evidence path, and then goes to review."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.views import form_submit

from ..forms import EvidenceAttachForm
from ..models import Entry, EntryStatus
from ..selectors import annotate_item_names
from ..services import entry_evidence_attach

AWAITING_SHOWN = 100


def awaiting_context(entries) -> dict:
    """The first entries awaiting evidence of a list, named, and how many there are."""
    shown = list(entries[:AWAITING_SHOWN])
    annotate_item_names(shown)
    total = len(shown) if len(shown) < AWAITING_SHOWN else entries.count()
    return {"awaiting": shown, "awaiting_total": total}


@login_required
def entry_evidence(request, pk: int):
    user = request.user
    entry = get_scoped_or_404(
        Entry.objects.select_related("subject__region", "scheme", "import_job"),
        user,
        "entry.record",
        pk=pk,
    )
    annotate_item_names([entry])
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("ledger:my_entries")
    form = EvidenceAttachForm()
    if request.method == "POST" and entry.status == EntryStatus.AWAITING:
        form = EvidenceAttachForm(request.POST, request.FILES)

        def said(attached):
            if attached.status == EntryStatus.APPROVED:
                return _("Evidence attached: %(item)s now counts.") % {"item": entry.item_name}
            return _("Evidence attached: %(item)s goes to review.") % {"item": entry.item_name}

        done = form_submit(
            request,
            form,
            lambda data: entry_evidence_attach(
                entry=entry, files=data["evidence"], acting_user=user
            ),
            redirect_to=back,
            message=said,
        )
        if done:
            return done
    return render(
        request, "ledger/entry_evidence.html", {"entry": entry, "form": form, "next": back}
    )
