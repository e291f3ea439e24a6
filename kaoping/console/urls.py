from django.urls import path

from . import scoring, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
    path("regions-import/", views.region_import, name="region_import"),
    path("schemes/", scoring.scheme_list, name="schemes"),
    path("schemes/<slug:code>/", scoring.scheme_detail, name="scheme"),
    path("periods/<int:pk>/", scoring.period_detail, name="period"),
    path("periods/<int:pk>/close/", scoring.period_close_view, name="period_close"),
    path("periods/<int:pk>/rebind/", scoring.period_rebind_view, name="period_rebind"),
    path("periods/<int:pk>/explain/<int:subject_id>/", scoring.result_explain, name="explain"),
    path("subjects/<int:pk>/", scoring.subject_detail, name="subject"),
    path(
        "subjects/<int:subject_id>/record/<slug:scheme_code>/", scoring.entry_new, name="entry_new"
    ),
]
