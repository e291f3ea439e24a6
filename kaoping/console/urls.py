from django.urls import path

from . import declare, imports, review, scoring, views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
    path("regions-import/", views.region_import, name="region_import"),
    path("review/", review.review_queue, name="review"),
    path("entries/mine/", review.my_entries, name="my_entries"),
    path("entries/<int:pk>/reverse/", review.entry_reverse_view, name="entry_reverse"),
    path("grids/<str:code>/record/<slug:scheme_code>/", review.grid_record, name="grid_record"),
    path("imports/", imports.import_start, name="imports"),
    path(
        "imports/template/<slug:scheme_code>/",
        imports.import_template_download,
        name="import_template",
    ),
    path("imports/<int:pk>/", imports.import_job, name="import_job"),
    path("imports/<int:pk>/status/", imports.import_status, name="import_status"),
    path("imports/<int:pk>/import/", imports.import_commit_view, name="import_commit"),
    path("schemes/", scoring.scheme_list, name="schemes"),
    path("schemes/<slug:code>/", scoring.scheme_detail, name="scheme"),
    path("periods/<int:pk>/", scoring.period_detail, name="period"),
    path("periods/<int:pk>/close/", scoring.period_close_view, name="period_close"),
    path("periods/<int:pk>/rebind/", scoring.period_rebind_view, name="period_rebind"),
    path(
        "periods/<int:pk>/<str:action>/", scoring.period_transition_view, name="period_transition"
    ),
    path("periods/<int:pk>/explain/<int:subject_id>/", scoring.result_explain, name="explain"),
    path("subjects/<int:pk>/", scoring.subject_detail, name="subject"),
    path(
        "subjects/<int:subject_id>/record/<slug:scheme_code>/", scoring.entry_new, name="entry_new"
    ),
    path("my/declare/", declare.declare, name="declare"),
    path("evidence/<int:pk>/", declare.evidence_file, name="evidence_file"),
]
