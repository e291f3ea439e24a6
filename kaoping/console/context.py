from kaoping.accounts.permissions import user_can


def navigation(request):
    """The console menu: only what the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "regions": user_can(user, "region.view"),
            "search": user_can(user, "people.view") or user_can(user, "region.view"),
            "audit": user_can(user, "audit.view"),
            "schemes": user_can(user, "scheme.view"),
            "outcomes": user_can(user, "outcome.view"),
            "declare": user_can(user, "entry.declare"),
            "review": user_can(user, "entry.review"),
            "objections": user_can(user, "entry.review"),
            "my_entries": user_can(user, "entry.record"),
            "my_points": user_can(user, "store.request"),
            "store_counter": user_can(user, "store.redeem"),
            "stores": user_can(user, "store.report") or user_can(user, "store.manage"),
            "imports": user_can(user, "entry.record"),
            "region_import": user_can(user, "region.change"),
            "logins": user_can(user, "login.view"),
            # The Django admin is the system superuser's alone (accounts/admin_site.py).
            "admin": user.is_active and user.is_superuser,
        }
    }
