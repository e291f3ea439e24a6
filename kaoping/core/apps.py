from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kaoping.core"
    label = "core"
