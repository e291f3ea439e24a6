"""Reads of logins for the console: the logins a login manager sees, and what it may do to each."""

from django.contrib.auth import get_user_model
from django.db import models

from .models import RoleAssignment
from .permissions import ROLE_RANK, grant_power
from .scoping import is_unrestricted, restrict


def _department_model():
    return RoleAssignment._meta.get_field("department").related_model


def logins_for(user, action: str = "login.view") -> models.QuerySet:
    """The logins holding a role in `user`'s area for `action`: a role on a region inside it,
    or a department of a county inside it. The system actor is nobody's to see."""
    users = get_user_model().objects.exclude(username="kaoping-system")
    if is_unrestricted(user):
        return users
    held = RoleAssignment.objects.for_user(user, action)
    departments = restrict(_department_model().objects.all(), user, action)
    within = RoleAssignment.objects.filter(
        models.Q(pk__in=held.values("pk")) | models.Q(department__in=departments)
    )
    return users.filter(pk__in=within.values("user_id"), is_superuser=False)


def login_rows(user, queryset) -> list[dict]:
    """Each login of `queryset` with its roles and whether `user` may manage it, in two queries."""
    logins = list(
        queryset.prefetch_related(
            models.Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related(
                    "region", "department__county", "household"
                ).order_by("pk"),
            ),
            "profile",
        )
    )
    rows = []
    for login in logins:
        assignments = list(login.role_assignments.all())
        codes = [
            (a.role, a.department.county.code if a.department_id else a.region.code)
            for a in assignments
        ]
        manageable = login.pk != user.pk and (
            is_unrestricted(user)
            or (
                bool(codes)
                and not login.is_superuser
                and not login.is_staff
                and all(grant_power(user, code) >= ROLE_RANK[role] for role, code in codes)
            )
        )
        profile = getattr(login, "profile", None)
        rows.append(
            {
                "login": login,
                "assignments": assignments,
                "manageable": manageable,
                "must_change": bool(profile and profile.must_change_password),
            }
        )
    return rows
