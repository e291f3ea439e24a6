"""The evaluation plans' pages (views_plans.py)."""

from django.urls import path

from . import views_plans

urlpatterns: list = [
    path("evaluations/plans/", views_plans.plan_list, name="plans"),
    path("evaluations/plans/format/", views_plans.plan_format, name="plan_format"),
    path("evaluations/plans/example.yaml", views_plans.plan_example, name="plan_example"),
    path("evaluations/plans/<int:pk>/", views_plans.plan_detail, name="plan"),
    path("evaluations/plans/versions/<int:pk>/", views_plans.plan_version, name="plan_version"),
]
