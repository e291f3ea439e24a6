from django.urls import path

from .views import declare, evidence, imports, review

app_name = "ledger"

urlpatterns = [
    path("review/", review.review_queue, name="review"),
    path("entries/mine/", review.my_entries, name="my_entries"),
    path("entries/<int:pk>/reverse/", review.entry_reverse_view, name="entry_reverse"),
    path("entries/<int:pk>/evidence/", evidence.entry_evidence, name="entry_evidence"),
    path("grids/<str:code>/record/<slug:scheme_code>/", review.grid_record, name="grid_record"),
    path(
        "subjects/<int:subject_id>/record/<slug:scheme_code>/", review.entry_new, name="entry_new"
    ),
    path("imports/", imports.import_start, name="imports"),
    path(
        "imports/template/<slug:scheme_code>/",
        imports.import_template_download,
        name="import_template",
    ),
    path("imports/<int:pk>/", imports.import_job, name="import_job"),
    path("imports/<int:pk>/status/", imports.import_status, name="import_status"),
    path("imports/<int:pk>/import/", imports.import_commit_view, name="import_commit"),
    path("my/declare/", declare.declare, name="declare"),
    path("evidence/<int:pk>/", declare.evidence_file, name="evidence_file"),
]
