from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("inspections/", views.home, name="home"),
    path("inspections/draw/", views.draw_make, name="draw_make"),
    path("inspections/draws/<int:pk>/", views.draw, name="draw"),
]
