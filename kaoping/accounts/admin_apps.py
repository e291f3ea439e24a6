from django.contrib.admin.apps import AdminConfig


class KaopingAdminConfig(AdminConfig):
    """django.contrib.admin with the superuser-only, audited, throttled site
    (`kaoping.accounts.admin_site`)."""

    default_site = "kaoping.accounts.admin_site.KaopingAdminSite"
