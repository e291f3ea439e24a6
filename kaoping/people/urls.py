from django.urls import path

from . import natural_village_views, views

app_name = "people"

urlpatterns = [
    path("households/<int:pk>/", views.household_detail, name="household"),
    path(
        "households/<int:pk>/natural-village/",
        natural_village_views.household_natural_village,
        name="household_natural_village",
    ),
    path(
        "people/natural-villages/<str:code>/",
        natural_village_views.natural_village_list_page,
        name="natural_villages",
    ),
    path(
        "people/natural-villages/edit/<int:pk>/",
        natural_village_views.natural_village_edit,
        name="natural_village_edit",
    ),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/import/", views.households_import_page, name="import"),
    path("people/import/template.xlsx", views.households_import_template, name="import_template"),
    path("people/tags/", views.tag_list, name="tags"),
    path("people/tags/<int:pk>/", views.tag_edit, name="tag_edit"),
    path("people/posts/<str:code>/", views.post_list, name="posts"),
    path("people/household-posts/<int:pk>/", views.post_edit, name="post_edit"),
    path("people/household-posts/<int:pk>/login/", views.post_login, name="post_login"),
]
