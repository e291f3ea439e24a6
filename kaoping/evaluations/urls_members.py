"""一联二亮: members' services to their linked households and their public pledges."""

from django.urls import path

from . import views_members as views

urlpatterns: list = [
    path("evaluations/services/", views.services, name="services"),
    path("evaluations/services/record/", views.service_record, name="service_record"),
    path("evaluations/pledges/", views.pledges, name="pledges"),
    path("evaluations/pledges/add/", views.pledge_add_view, name="pledge_add"),
    path("evaluations/pledges/<int:pk>/keep/", views.pledge_keep_view, name="pledge_keep"),
]
