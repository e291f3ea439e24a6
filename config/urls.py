from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kaoping.accounts.views import LoginView
from kaoping.api.api import api

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The superuser's alone, audited, its sign-in throttled: kaoping/accounts/admin_site.py.
    path("admin/", admin.site.urls),
    path("", include("kaoping.accounts.urls")),
    path("api/", api.urls),
    path("p/", include("kaoping.publishing.urls")),
    path("", include("kaoping.store.urls")),
    path("outcomes/", include("kaoping.outcomes.urls")),
    # Each app serves its own pages at the paths users know; the console is the shell around them.
    path("", include("kaoping.regions.urls")),
    path("", include("kaoping.people.urls")),
    path("", include("kaoping.schemes.urls")),
    path("", include("kaoping.ledger.urls")),
    path("", include("kaoping.periods.urls")),
    path("", include("kaoping.inbox.urls")),
    path("", include("kaoping.grid.urls")),
    path("", include("kaoping.election.urls")),
    path("", include("kaoping.problems.urls")),
    path("", include("kaoping.evaluations.urls")),
    path("", include("kaoping.inspections.urls")),
    path("", include("kaoping.reports.urls")),
    path("", include("kaoping.console.urls")),
    # Progress of long work (a close, a report, an import): kaoping/core/progress.py.
    path("", include("kaoping.core.urls")),
]
