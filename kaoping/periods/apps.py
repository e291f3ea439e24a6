from django.apps import AppConfig


class PeriodsConfig(AppConfig):
    name = "kaoping.periods"
    label = "periods"
