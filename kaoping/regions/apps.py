from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "kaoping.regions"
    label = "regions"
