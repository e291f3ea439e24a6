from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "kaoping.outcomes"
    label = "outcomes"
    verbose_name = _("consequences")

    def ready(self) -> None:
        from kaoping.periods.services import AFTER_CLOSE

        from .services import consequences_apply

        if consequences_apply not in AFTER_CLOSE:
            AFTER_CLOSE.append(consequences_apply)
