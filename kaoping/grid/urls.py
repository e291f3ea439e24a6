from django.urls import path

from . import views, views_coverage

app_name = "grid"

urlpatterns = [
    path("grid/coverage/", views_coverage.coverage_page, name="coverage"),
    path("grid/coverage/rule/", views_coverage.rule_page, name="coverage_rule"),
    path("grid/overdue/", views_coverage.overdue_page, name="overdue"),
    path("grid/round/", views.round_page, name="round"),
    path("grid/households/<int:pk>/visit/", views.visit_new, name="visit_new"),
    path("grid/households/<int:pk>/book/", views.book, name="book"),
    path("grid/households/<int:pk>/book.pdf", views.book_pdf, name="book_pdf"),
    path("grid/visits/", views.visit_list, name="visits"),
    path("grid/visits/<int:pk>/", views.visit_detail, name="visit"),
    path("grid/visit-photos/<int:pk>/", views.visit_photo, name="visit_photo"),
    path("grid/<str:code>/books.pdf", views.grid_books_pdf, name="grid_books_pdf"),
]
