"""Who may touch what in an election round, beyond the region scopes of `accounts.scoping`.

A department's findings are its own business across the whole county (公安 answers for every
village, not only those it is paired with), so findings are checked against the departments a
login belongs to, not against the villages it covers: `departments_of` and `department_ensure`.
"""

from django.utils.translation import gettext as _

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import Refused
from kaoping.regions.models import Department


def departments_of(user) -> list[Department]:
    """The departments whose findings `user` may enter and read (a department scorer's own)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return [
        a.department
        for a in user.role_assignments.filter(
            role=Role.DEPARTMENT_SCORER, department__isnull=False
        ).select_related("department")
    ]


def department_ensure(user, department: Department) -> None:
    """Refuse unless `user` works for `department` (the superuser stands in for any)."""
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return
    if department.pk not in {d.pk for d in departments_of(user)}:
        raise Refused(
            _("Only %(department)s enters its own findings.") % {"department": department.name}
        )
