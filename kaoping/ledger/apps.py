from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "kaoping.ledger"
    label = "ledger"
