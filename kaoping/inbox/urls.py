from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("inbox/", views.message_list, name="list"),
    path("inbox/badge/", views.badge, name="badge"),
    path("inbox/<int:pk>/", views.message_detail, name="detail"),
    path("inbox/<int:pk>/attachment/", views.attachment, name="attachment"),
]
