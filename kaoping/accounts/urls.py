from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("password/", views.password_change_page, name="password_change"),
    path("logins/", views.login_list, name="list"),
    path("logins/new/", views.login_new, name="new"),
    path("logins/import/", views.login_import, name="import"),
    path("logins/import/template.xlsx", views.login_import_template, name="import_template"),
    path("logins/issued/", views.login_issued, name="issued"),
    path("logins/<int:pk>/active/", views.login_active, name="active"),
    path("logins/<int:pk>/reset/", views.login_reset, name="reset"),
]
