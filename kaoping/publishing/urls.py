from django.urls import path

from . import portal, views

app_name = "portal"

urlpatterns = [
    # Public (公示): no login.
    path("", portal.index, name="index"),
    path("<int:pk>/", portal.posting, name="posting"),
    path("<int:pk>/s/<int:subject_id>/", portal.subject_breakdown, name="breakdown"),
    path("<int:pk>/objection/", portal.objection, name="objection"),
    path("<int:pk>/poster.pdf", portal.poster, name="poster"),
    path("<int:pk>/export.xlsx", portal.export, name="export"),
    # Console: objections and the full export, for signed-in staff.
    path("manage/objections/", views.objection_list, name="objections"),
    path("manage/objections/<int:pk>/", views.objection_detail, name="objection_detail"),
    path(
        "manage/objections/<int:pk>/close/", views.objection_reclose_view, name="objection_reclose"
    ),
    path("manage/periods/<int:pk>/export.xlsx", views.period_export, name="period_export"),
]
