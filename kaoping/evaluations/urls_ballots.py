"""Ballots: a login rater's page, the public code page (/v/<code>/, no account), the printable
codes of a village, paper ballots typed in by staff, and the audit role's individual ballots."""

from django.urls import path

from . import views_ballots as views

urlpatterns = [
    path("evaluations/rounds/<int:pk>/rate/", views.rate, name="rate"),
    path("v/<str:code>/", views.code_page, name="code"),
    path("evaluations/rounds/<int:pk>/codes/", views.codes_villages, name="codes_villages"),
    path("evaluations/rounds/<int:pk>/codes/<int:village>/", views.codes, name="codes"),
    path("evaluations/rounds/<int:pk>/paper/", views.paper, name="paper"),
    path("evaluations/rounds/<int:pk>/ballots/", views.ballots, name="ballots"),
]
