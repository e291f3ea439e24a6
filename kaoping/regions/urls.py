from django.urls import path

from . import views

app_name = "regions"

urlpatterns = [
    path("regions-import/", views.region_import, name="import"),
]
