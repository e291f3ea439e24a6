"""The one chokepoint for access: `restrict(queryset, user, action)` and `may(user, action, obj)`.

A user's roles grant actions inside scopes (a region subtree, or one household for a villager);
`kaoping.accounts.permissions` says which. Every list, detail, export, dashboard and API query
starts from `Model.objects.for_user(user, action)` (or `restrict` for a model whose manager is
not scoped, such as core's audit log); every write service starts with `ensure(user, action,
obj)`. Views then use `get_scoped_or_404`: out of scope is 404 (we do not confirm the object
exists), in scope but not allowed is 403.

Jobs act as the system actor (`system_actor()`), never as `None`: it may do everything, cannot
log in, and audit rows name it.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.core.fields import ancestor_codes, subtree_q


@dataclass(frozen=True)
class Scope:
    prefix: str  # region code; everything whose code starts with it is inside
    household_id: int | None = None  # a villager's scope is one household, not the region


SYSTEM_USERNAME = "kaoping-system"


def system_actor():
    """The user that periodic jobs, commands and the close's own follow-ups act as."""
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "is_superuser": True, "first_name": "系统"},
    )
    return user


def is_system(user) -> bool:
    return user is not None and getattr(user, "username", None) == SYSTEM_USERNAME


def is_unrestricted(user) -> bool:
    """The system actor and active superusers: `restrict` leaves their querysets whole, so they
    alone may act on what lies in nobody's area (a new county above every region there is)."""
    return is_system(user) or bool(
        user is not None and user.is_authenticated and user.is_active and user.is_superuser
    )


# The verbs that a county-wide thing (scope_includes_ancestors) grants from below: seeing it and
# recording, declaring or reviewing entries under it.
USE_VERBS = frozenset({"view", "record", "declare", "review"})


def view_action(action: str) -> str:
    """The read action that goes with `action` (`people.change` → `people.view`)."""
    return action.split(".", 1)[0] + ".view"


def scope_signature(user, action: str) -> str:
    """Where `user` may do `action`, as text: two users with one signature see the same rows of
    any model without `scope_owner` (a key for values cached per scope, not per user)."""
    from .permissions import scopes_for

    if is_unrestricted(user):
        return "*"
    if user is None or not user.is_authenticated or not user.is_active:
        return "-"
    scopes = {(scope.prefix, scope.household_id or 0) for scope in scopes_for(user, action)}
    return ";".join(f"{prefix}/{household}" for prefix, household in sorted(scopes))


def restrict(queryset: models.QuerySet, user, action: str) -> models.QuerySet:
    """The rows of `queryset` that `user` may `action`: the model names its region lookup in
    `scope_region` (and `scope_household` when a villager's household scope applies).

    A model that names the user who made a row in `scope_owner` (an import's uploader) also
    gives its maker their own rows, wherever the region says they lie, for as long as the maker
    may do `action` somewhere: a department's villages share no region below the county, so an
    import a department scorer uploads lies in no region its scopes cover."""
    from .permissions import scopes_for  # permissions reads the role model, which uses this file

    if is_unrestricted(user):
        return queryset
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    model = queryset.model
    region_lookup = model.scope_region
    household_lookup = getattr(model, "scope_household", None)
    # County-wide things (a scheme, its periods) are seen and used from anywhere inside the
    # county; administering them (closing, managing) takes a scope that covers them.
    with_ancestors = getattr(model, "scope_includes_ancestors", False) and (
        action.split(".", 1)[1] in USE_VERBS
    )
    condition = models.Q()
    granted = False
    for scope in scopes_for(user, action):
        granted = True
        if scope.household_id is not None and household_lookup:
            condition |= models.Q(**{household_lookup: scope.household_id})
        else:
            condition |= subtree_q(region_lookup, scope.prefix)
        if with_ancestors:
            condition |= models.Q(**{f"{region_lookup}__in": ancestor_codes(scope.prefix)})
    if not granted:
        return queryset.none()
    if owner_lookup := getattr(model, "scope_owner", None):
        condition |= models.Q(**{owner_lookup: user.pk})
    return queryset.filter(condition)


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user, action: str):
        return restrict(self, user, action)


def may(user, action: str, obj: models.Model | models.QuerySet) -> bool:
    """Whether `user` may do `action` on `obj`: an instance of a scoped model, or a queryset of
    one (a batch: then on every row of it, checked in two queries however long it is).

    Nobody may do anything as `None`, anonymously or as an inactive user; the system actor may
    do everything.
    """
    if is_system(user):
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if isinstance(obj, models.QuerySet):
        return restrict(obj, user, action).count() == obj.count()
    return restrict(type(obj)._default_manager.all(), user, action).filter(pk=obj.pk).exists()


def ensure(user, action: str, obj: models.Model | models.QuerySet) -> None:
    """The first line of every write service: refuse unless `user` may do `action` on `obj` (an
    object, or a queryset of the objects a batch touches)."""
    if not may(user, action, obj):
        raise Refused()


class Refused(KaopingError, PermissionDenied):
    """The acting user may not do this here. Views answer 403; other callers see a message."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("You may not do this here."))


def get_scoped_or_404(queryset, user, action: str, **lookup):
    """Fetch one object the user may see; 404 when out of scope, 403 when `action` is refused."""
    try:
        obj = queryset.for_user(user, view_action(action)).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
    if action != view_action(action) and not may(user, action, obj):
        raise PermissionDenied
    return obj


__all__ = [
    "Refused",
    "Scope",
    "ScopedQuerySet",
    "SYSTEM_USERNAME",
    "ensure",
    "get_scoped_or_404",
    "is_system",
    "is_unrestricted",
    "may",
    "restrict",
    "system_actor",
    "view_action",
]
