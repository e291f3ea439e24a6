"""The Django admin is the system superuser's alone: the console manages logins and records
within each user's scope, and the admin has no scope. Its sign-in shares the lockout of
/login/, and every change made through it writes an audit row (before and after)."""

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION

from kaoping.core.audit import audit_record, snapshot

from .forms import ThrottledAdminAuthenticationForm

_SECRET_FIELDS = {"password", "token_digest", "digest", "secret"}


def _fields(obj) -> list[str]:
    return [f.name for f in obj._meta.concrete_fields if f.name not in _SECRET_FIELDS]


def _region_code(obj) -> str:
    """The region the object lies in, following its model's `scope_region` lookup."""
    value = obj
    for part in getattr(obj, "scope_region", "").split("__"):
        value = getattr(value, part, None) if part else None
        if value is None:
            return ""
    return value if isinstance(value, str) else ""


class AuditedModelAdmin:
    """Mixed into every ModelAdmin the site registers: an audit row beside each LogEntry."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            request._kaoping_admin_before = snapshot(obj, _fields(obj))
        return obj

    def _audit(self, request, obj, flag, message="", before=None):
        verb = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}[flag]
        after = None if flag == DELETION else snapshot(obj, _fields(obj))
        if after is not None and message:
            after = {**after, "_change": str(message)[:1000]}
        audit_record(
            actor=request.user,
            action=f"admin.{obj._meta.label_lower}.{verb}",
            obj=obj,
            region_code=_region_code(obj),
            before=before,
            after=after,
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, ADDITION, entry.get_change_message())
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        before = getattr(request, "_kaoping_admin_before", None)
        self._audit(request, obj, CHANGE, entry.get_change_message(), before=before)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, obj, DELETION, before=snapshot(obj, _fields(obj)))
        return entries


class KaopingAdminSite(admin.AdminSite):
    site_header = site_title = "考评 · 系统配置"
    login_form = ThrottledAdminAuthenticationForm

    def has_permission(self, request):
        # Staff status is not enough: only the superuser (the demo's county admin is no longer
        # staff, and a staff flag set by hand must not open an unscoped door).
        return request.user.is_active and request.user.is_superuser

    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        audited = type(base.__name__, (AuditedModelAdmin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, audited, **options)
