"""The schemes' list, where a county admin loads a scheme file.

A scheme's own page lists and opens its periods, so it is served by `periods` (this app sits
below `periods` and may not import it).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import user_can
from kaoping.core.errors import KaopingError
from kaoping.core.views import form_submit
from kaoping.regions.models import Level
from kaoping.regions.selectors import region_list

from .format_doc import ERRORS_SECTION, format_doc_html
from .forms import SchemeUploadForm
from .selectors import scheme_list_with_version_counts
from .services import scheme_load
from .spec import SchemeError


@login_required
def scheme_list(request):
    user = request.user
    if not user_can(user, "scheme.view"):
        raise PermissionDenied
    form = SchemeUploadForm()
    if request.method == "POST":
        if not user_can(user, "scheme.manage"):
            raise PermissionDenied
        form = SchemeUploadForm(request.POST, request.FILES)
        region = region_list(user=user, action="scheme.manage", level=Level.COUNTY).first()

        def load(data):
            filename, text = data["file"]
            try:
                return scheme_load(text=text, filename=filename, region=region, acting_user=user)
            except SchemeError as exc:
                raise KaopingError([str(p) for p in exc.problems]) from exc

        def loaded(result):
            version, created = result
            text = (
                _("Loaded: %(scheme)s v%(n)s")
                if created
                else _("Already loaded: %(scheme)s v%(n)s")
            )
            return text % {"scheme": version.scheme.name, "n": version.number}

        if region is None:
            form.add_error(
                None, _("Import the county's regions first: a scheme belongs to a county.")
            )
        else:
            done = form_submit(
                request,
                form,
                load,
                redirect_to=lambda result: reverse("periods:scheme", args=[result[0].scheme.code]),
                message=loaded,
            )
            if done:
                return done
    return render(
        request,
        "schemes/list.html",
        {
            "schemes": scheme_list_with_version_counts(user=user),
            "form": form,
            "problems": form.non_field_errors() if form.is_bound else None,
            "can_manage": user_can(user, "scheme.manage"),
            "errors_section": ERRORS_SECTION,
        },
    )


@login_required
def scheme_format(request):
    """How a scheme file is written (docs/schemes.md), linked from every refused upload."""
    if not user_can(request.user, "scheme.view"):
        raise PermissionDenied
    html = format_doc_html()
    if html is None:
        raise Http404
    return render(request, "schemes/format.html", {"doc": html})
