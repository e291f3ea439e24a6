"""Who may touch what in an election round, beyond the region scopes of `accounts.scoping`.

A department's findings are its own business across the whole county (公安 answers for every
village, not only those it is paired with), so findings are checked against the departments a
login belongs to, not against the villages it covers: `departments_of` and `department_ensure`.

A department's villages in a round (its area on the board, in the files list, in its to-dos and
in its weekly report) are one thing, defined once here (`department_files`): the villages it
covers (`Department.villages`, 部门联片) together with the villages whose file names it as the
paired department (帮村).
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import Refused
from kaoping.regions.models import Department

from .models import VillageFile


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


def department_q(departments) -> Q:
    """The village files of `departments` (Department instances or pks): the files of the
    villages they cover (`Department.villages`) and those they are the paired department of."""
    ids = [getattr(d, "pk", d) for d in departments]
    covered = Department.villages.through.objects.filter(department_id__in=ids).values("region_id")
    return Q(village_id__in=covered) | Q(paired_department_id__in=ids)


def department_files(round_, *departments):
    """The files of `round_` in the area of `departments` (one or more): the one definition of
    a department's villages, shared by the board, the files list, the to-dos and the weekly
    report."""
    return VillageFile.objects.filter(round=round_).filter(department_q(departments))
