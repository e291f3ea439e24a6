from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kaoping.accounts.views import LoginView
from kaoping.api.api import api

admin.site.site_header = admin.site.site_title = "考评 · 系统配置"

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
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
    path("", include("kaoping.console.urls")),
]
