from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
]
