"""A head of household declares a good deed from a phone, and evidence files are served.

Evidence is personal data: files are never served from MEDIA_URL, only by `evidence_file`, to
someone who may see the entry the file belongs to.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.views import form_submit
from kaoping.schemes.selectors import scheme_list
from kaoping.schemes.spec import SubjectKind

from ..evidence import thumbnail_path
from ..forms import DeclareForm
from ..models import EntrySource
from ..selectors import (
    declarable_items,
    evidence_get,
    subject_list_declaring,
)
from ..services import entry_record


@login_required
def declare(request):
    user = request.user
    if not user_can(user, "entry.declare"):
        raise PermissionDenied
    subjects = subject_list_declaring(user=user)
    if not subjects:
        # A household gets its subject when a household scheme is loaded: nothing to declare yet.
        return render(request, "ledger/declare.html", {"has_items": False})
    # Every household of a county is scored by the same schemes with the same tree (households
    # have no track), so the first household's items serve them all.
    schemes = scheme_list(user=user, action="entry.declare", subject_kind=SubjectKind.HOUSEHOLD)
    groups = declarable_items(subject=subjects[0], schemes=schemes)
    if request.method == "POST":
        form = DeclareForm(request.POST, request.FILES, subjects=subjects, groups=groups)

        def record(data):
            return entry_record(
                scheme=data["declarable"].scheme,
                subject=data["subject"],
                item_code=data["declarable"].node.code,
                occurred_on=data["occurred_on"],
                quantity=data["quantity"],
                note=data["note"].strip(),
                acting_user=user,
                source=EntrySource.DECLARED,
                # The key is the user's own: a key guessed from someone else's form must not
                # return their entry.
                idempotency_key=f"declare:{user.pk}:{data['idempotency_key']}",
                evidence=[data["photo"]] if data["photo"] else [],
                declared=True,
            )

        def said(recorded):
            _entry, created = recorded
            if not created:
                return messages.INFO, _("This declaration was already sent.")
            return _("Declared: %(item)s. The review group will check it.") % {
                "item": form.cleaned_data["declarable"].node.name
            }

        done = form_submit(
            request,
            form,
            record,
            redirect_to=lambda recorded: reverse("periods:subject", args=[recorded[0].subject_id]),
            message=said,
            fields={"item_code": "item", "evidence": "photo"},
        )
        if done:
            return done
    else:
        form = DeclareForm(
            subjects=subjects,
            groups=groups,
            initial={"occurred_on": timezone.localdate(), "idempotency_key": uuid.uuid4().hex},
        )
    return render(
        request,
        "ledger/declare.html",
        {"form": form, "has_items": bool(groups)},
    )


@login_required
def evidence_file(request, pk: int):
    """One evidence file (or its thumbnail with ?thumb=1), to whoever may see its entry."""
    evidence = evidence_get(user=request.user, pk=pk)
    if evidence is None:
        raise Http404
    name = evidence.file.name
    content_type = evidence.content_type
    if request.GET.get("thumb") and evidence.content_type.startswith("image/"):
        thumb = thumbnail_path(evidence.sha256)
        if default_storage.exists(thumb):
            name, content_type = thumb, "image/jpeg"
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    stem = evidence.original_name.rsplit(".", 1)[0] or "evidence"
    response = FileResponse(
        handle,
        content_type=content_type,
        # A PDF may carry scripts: it is downloaded, not shown inside our origin.
        as_attachment=content_type == "application/pdf",
        filename=f"{stem}{evidence.extension}",
    )
    # Personal data: kept by the user's own browser only. The bytes never change (the name is
    # their hash), so the browser may keep them for a day.
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
