from django.contrib import admin

from .models import Objection


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    """Read-only: objections are filed on the public page and decided in the console."""

    list_display = ("id", "period", "status", "region_code", "created_at", "decided_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in Objection._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
