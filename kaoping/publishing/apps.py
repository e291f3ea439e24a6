from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "kaoping.publishing"
    label = "publishing"

    def ready(self) -> None:
        from kaoping.periods.services import AFTER_CLOSE, FINALISE_BLOCKERS

        from .services import objections_block_finalise, objections_mark_applied

        # ready() can run twice (e.g. under some test runners); register each hook once.
        if objections_block_finalise not in FINALISE_BLOCKERS:
            FINALISE_BLOCKERS.append(objections_block_finalise)
        if objections_mark_applied not in AFTER_CLOSE:
            AFTER_CLOSE.append(objections_mark_applied)
