"""The dashboard's own page (`/dashboard/`); county homes include the same fragment."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from kaoping.regions.models import Region

from .dashboard import dashboard_context


@login_required
def dashboard(request):
    """County and township staff: their area's figures, drilled down by `?region=`. Village
    roles have no dashboard (403); a region outside the user's is 404."""
    try:
        context = dashboard_context(request.user, request.GET)
    except Region.DoesNotExist:
        raise Http404 from None
    if context["dashboard"] is None:
        raise PermissionDenied
    return render(request, "console/dashboard.html", context)
