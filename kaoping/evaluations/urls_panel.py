"""集中评比: the chair's board and its close, a judge's phone page and the screen in the room."""

from django.urls import path

from . import views_panel

urlpatterns = [
    path("evaluations/rounds/<int:pk>/panel/", views_panel.panel, name="panel"),
    path(
        "evaluations/rounds/<int:pk>/panel/board/",
        views_panel.panel_board_fragment,
        name="panel_board",
    ),
    path("evaluations/rounds/<int:pk>/panel/close/", views_panel.panel_close, name="panel_close"),
    path("evaluations/rounds/<int:pk>/judge/", views_panel.judge, name="judge"),
    path("evaluations/rounds/<int:pk>/screen/", views_panel.screen, name="screen"),
]
