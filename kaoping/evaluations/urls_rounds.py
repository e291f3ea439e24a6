"""The rounds' pages (views_rounds.py): the evaluations' home, a round, opening and closing one."""

from django.urls import path

from . import views_rounds

urlpatterns: list = [
    path("evaluations/", views_rounds.home, name="home"),
    path("evaluations/rounds/<int:pk>/", views_rounds.round_detail, name="round"),
    path("evaluations/rounds/<int:pk>/close/", views_rounds.round_close_view, name="round_close"),
    path("evaluations/plans/<int:pk>/open/", views_rounds.round_open_view, name="round_open"),
]
