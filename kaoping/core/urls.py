from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("progress/<int:pk>/", views.progress_view, name="progress"),
]
