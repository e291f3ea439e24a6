from django.urls import path

from . import views

app_name = "problems"

urlpatterns = [
    path("problems/", views.problem_list, name="list"),
    path("problems/<int:pk>/", views.problem_detail, name="detail"),
    path("problems/<int:pk>/progress/", views.problem_progress, name="progress"),
    path("problems/<int:pk>/resolve/", views.problem_resolve, name="resolve"),
    path("problems/<int:pk>/assign/", views.problem_assign, name="assign"),
    path("problems/<int:pk>/close/", views.problem_close, name="close"),
    path("problems/<int:pk>/confirm/", views.problem_confirm, name="confirm"),
    path("problems/raise/<int:household_pk>/", views.problem_raise, name="raise"),
    path("my/problems/", views.my_problems, name="mine"),
]
