from django.urls import path

from . import dashboard_views, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
]
