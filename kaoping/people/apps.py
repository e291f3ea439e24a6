from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "kaoping.people"
    label = "people"
