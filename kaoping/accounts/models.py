from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("county admin")
    TOWNSHIP_STAFF = "township_staff", _("township staff")
    DEPARTMENT_SCORER = "department_scorer", _("department scorer")
    VILLAGE_SECRETARY = "village_secretary", _("village secretary")
    VILLAGE_COMMITTEE = "village_committee", _("village committee member")
    GRID_MEMBER = "grid_member", _("grid member")
    REVIEW_MEMBER = "review_member", _("review group member")
    STORE_KEEPER = "store_keeper", _("store keeper")
    VILLAGER = "villager", _("villager")


class RoleAssignment(models.Model):
    """A role a user holds, and where: a region subtree, a department's villages, or a household."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A grid member who holds a 三长 post (片长/组长/邻长): the scope is the post's households,
    # not the whole village it is anchored at (see permissions._assignment_scopes).
    household_post = models.ForeignKey(
        "people.HouseholdPost",
        verbose_name=_("household post"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            # Each role names exactly the anchor its scope is computed from.
            models.CheckConstraint(
                condition=(
                    models.Q(role="department_scorer", department__isnull=False)
                    | models.Q(role="villager", household__isnull=False, region__isnull=False)
                    | (
                        ~models.Q(role__in=["department_scorer", "villager"])
                        & models.Q(region__isnull=False)
                    )
                ),
                name="role_assignment_anchor",
            ),
            # NULLs are distinct in a unique index, so one constraint per kind of anchor.
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=models.Q(department__isnull=False),
                name="role_assignment_department_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "household"],
                condition=models.Q(household__isnull=False),
                name="role_assignment_household_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=models.Q(region__isnull=False, household__isnull=True),
                name="role_assignment_region_unique",
            ),
        ]

    def __str__(self) -> str:
        anchor = self.department or self.region
        return f"{self.user} · {self.get_role_display()} · {anchor}"


class Profile(models.Model):
    """Who a login is: the resident behind it, so the ledger can see who records for whom."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when a login is created or its password reset: the temporary password someone else
    # saw must be replaced before the login may do anything else.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)
