"""The one chokepoint for scoped access: `Model.objects.for_user(user, action)`.

A user's roles grant actions inside scopes (a region subtree, or one household for a villager).
Every list, detail, export, dashboard and API query starts here. Views then use
`get_scoped_or_404`: out of scope is 404 (we do not confirm the object exists), in scope but not
allowed is 403.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from .fields import subtree_q


@dataclass(frozen=True)
class Scope:
    prefix: str  # region code; everything whose code starts with it is inside
    household_id: int | None = None  # a villager's scope is one household, not the region


def view_action(action: str) -> str:
    """The read action that goes with `action` (`people.change` → `people.view`)."""
    return action.split(".", 1)[0] + ".view"


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user, action: str):
        from kaoping.accounts.permissions import scopes_for

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        region_lookup = self.model.scope_region
        household_lookup = getattr(self.model, "scope_household", None)
        # County-wide things (a scheme, its periods) are seen from anywhere inside the county.
        with_ancestors = getattr(self.model, "scope_includes_ancestors", False)
        condition = models.Q()
        granted = False
        for scope in scopes_for(user, action):
            granted = True
            if scope.household_id is not None and household_lookup:
                condition |= models.Q(**{household_lookup: scope.household_id})
            else:
                condition |= subtree_q(region_lookup, scope.prefix)
            if with_ancestors:
                ancestors = [scope.prefix[:n] for n in (2, 4, 6, 9, 12) if n < len(scope.prefix)]
                condition |= models.Q(**{f"{region_lookup}__in": ancestors})
        return self.filter(condition) if granted else self.none()


def get_scoped_or_404(queryset, user, action: str, **lookup):
    """Fetch one object the user may see; 404 when out of scope, 403 when `action` is refused."""
    try:
        obj = queryset.for_user(user, view_action(action)).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
    if (
        action != view_action(action)
        and not queryset.for_user(user, action).filter(pk=obj.pk).exists()
    ):
        raise PermissionDenied
    return obj


def require_action(user, action: str, obj) -> None:
    """403 unless `user` may do `action` on `obj` (which the caller already found in scope)."""
    if not type(obj).objects.for_user(user, action).filter(pk=obj.pk).exists():
        raise PermissionDenied
