from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
]
