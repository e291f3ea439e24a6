from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kaoping.demo"
    label = "demo"
