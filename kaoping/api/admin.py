from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["digest", "hint", "created_at", "last_used_at"]
