"""The region import page. A region's own page shows its households, subjects and people, so
it belongs to the console, which may read every app (this app sits below `people`)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kaoping.accounts.permissions import scopes_for, user_can
from kaoping.core.views import form_submit

from .forms import RegionImportForm
from .services import regions_import_file


@login_required
def region_import(request):
    user = request.user
    if not user_can(user, "region.change"):
        raise PermissionDenied
    if request.method == "POST":
        form = RegionImportForm(request.POST, request.FILES)
        done = form_submit(
            request,
            form,
            lambda data: regions_import_file(
                data=data["file"].read(), filename=data["file"].name, acting_user=user
            ),
            redirect_to=reverse("regions:import"),
            message=lambda counts: (
                _("Imported: %(created)d new, %(renamed)d renamed, %(unchanged)d unchanged.")
                % counts
            ),
        )
        if done:
            return done
    else:
        form = RegionImportForm()
    return render(
        request,
        "regions/import.html",
        {
            "form": form,
            "errors": getattr(form, "row_errors", None),
            "scopes": scopes_for(user, "region.change"),
        },
    )
