from django.urls import path

from . import views

app_name = "periods"

urlpatterns = [
    path("schemes/<slug:code>/", views.scheme_detail, name="scheme"),
    path("periods/<int:pk>/", views.period_detail, name="detail"),
    path("periods/<int:pk>/close/", views.period_close_view, name="close"),
    path("periods/<int:pk>/rebind/", views.period_rebind_view, name="rebind"),
    path("periods/<int:pk>/<str:action>/", views.period_transition_view, name="transition"),
    path("periods/<int:pk>/explain/<int:subject_id>/", views.result_explain, name="explain"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject"),
]
