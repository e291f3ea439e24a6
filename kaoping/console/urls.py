from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
    path("regions-import/", views.region_import, name="region_import"),
]
