from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "kaoping.publishing"
    label = "publishing"
