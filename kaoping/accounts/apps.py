from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kaoping.accounts"
    label = "accounts"
