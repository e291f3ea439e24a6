"""Meeting sign-in (views_meetings.py); `m/<code>/` is the public page of a meeting's QR code."""

from django.urls import path

from . import views_meetings as views

urlpatterns = [
    path("evaluations/meetings/", views.meeting_list, name="meetings"),
    path("evaluations/meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path(
        "evaluations/meetings/<int:pk>/attendance/",
        views.meeting_attendance,
        name="meeting_attendance",
    ),
    path("evaluations/meetings/<int:pk>/close/", views.meeting_close_view, name="meeting_close"),
    path(
        "evaluations/meetings/<int:pk>/sign-in-for/",
        views.meeting_sign_in_for_view,
        name="meeting_sign_in_for",
    ),
    path("m/<str:code>/", views.sign_in, name="sign_in"),
]
