from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from . import choices

# Before any model class is created (apps' modules are imported before their models).
choices.install()


def _create_cache_tables(using="default", **kwargs):
    # The throttles' counters live in a database cache table when there is no Redis
    # (kaoping.core.throttle); `migrate` makes it, so a fresh install and `make demo` have it.
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "kaoping.core"
    label = "core"
    verbose_name = _("system records")

    def ready(self):
        post_migrate.connect(_create_cache_tables, sender=self)
        # Registers the PERIODIC_JOBS check; starts the periodic thread in a server process
        # when settings.PERIODIC_IN_SERVER (the embedded default).
        from . import periodic

        periodic.server_thread_start()
