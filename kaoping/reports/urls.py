from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_index, name="list"),
    path("reports/new/", views.report_new, name="new"),
    path("reports/schedules/", views.schedule_index, name="schedules"),
    path("reports/schedules/<int:pk>/delete/", views.schedule_delete_view, name="schedule_delete"),
    path("reports/schedules/<int:pk>/toggle/", views.schedule_toggle_view, name="schedule_toggle"),
    path("reports/<int:pk>/", views.report_detail, name="detail"),
    path("reports/<int:pk>/retry/", views.report_retry_view, name="retry"),
    path("reports/<int:pk>/file/<str:fmt>/", views.report_file, name="file"),
]
