"""The election pages; each views module lists its own paths (`urls`)."""

from . import views_board, views_findings, views_rounds, views_sheets, views_villages

app_name = "election"

urlpatterns = [
    *views_board.urls,
    *views_rounds.urls,
    *views_villages.urls,
    *views_sheets.urls,
    *views_findings.urls,
]
