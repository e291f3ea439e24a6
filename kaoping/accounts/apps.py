from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kaoping.accounts"
    label = "accounts"

    def ready(self):
        from . import middleware  # noqa: F401  (connects the sign-in receiver)
