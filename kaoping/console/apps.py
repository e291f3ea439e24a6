from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "kaoping.console"
    label = "console"
