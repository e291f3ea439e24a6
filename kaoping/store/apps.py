from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoreConfig(AppConfig):
    name = "kaoping.store"
    label = "store"
    verbose_name = _("Points store")

    def ready(self):
        from kaoping.ledger.signals import entries_approved

        from .services import entries_approved_receiver

        entries_approved.connect(entries_approved_receiver, dispatch_uid="store.credit")
