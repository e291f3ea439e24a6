from django.db import models
from django.utils.translation import gettext_lazy as _

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.fields import RegionCodeField

from .codes import official_code


class Level(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    VILLAGE = "village", _("village")
    GRID = "grid", _("grid")


class Region(models.Model):
    """A node of the administrative tree, keyed by its significant division code."""

    code = RegionCodeField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, db_index=True)
    # 村 or 社区 for villages, 乡/镇/街道 for townships: how the place calls itself.
    kind = models.CharField(_("kind"), max_length=10, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    initials = models.CharField(_("pinyin initials"), max_length=60, blank=True, db_index=True)

    scope_region = "code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="county")
                | models.Q(parent__isnull=False)
                | models.Q(level__in=["province", "city"]),
                name="region_parent_required_below_county",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def official_code(self) -> str:
        return official_code(self.code)


class VillageGroup(models.Model):
    """Villages of one county grouped beside the tree (not a level of it), under a code."""

    county = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    scope_region = "county__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Cluster(VillageGroup):
    """A 片区: villages grouped for supervision."""

    villages = models.ManyToManyField(
        Region, verbose_name=_("villages"), related_name="clusters", blank=True
    )

    class Meta(VillageGroup.Meta):
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        constraints = [
            models.UniqueConstraint(fields=["county", "code"], name="cluster_code_unique")
        ]


class Department(VillageGroup):
    """A county department (政法委, 公安…) and the villages it covers (部门联片帮村)."""

    villages = models.ManyToManyField(
        Region, verbose_name=_("covered villages"), related_name="departments", blank=True
    )

    class Meta(VillageGroup.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["county", "code"], name="department_code_unique")
        ]


class NaturalVillageKind(models.TextChoices):
    NATURAL_VILLAGE = "natural", _("natural village")
    VILLAGERS_GROUP = "group", _("villagers' group")


class NaturalVillage(models.Model):
    """A 自然村 or 村民小组 inside one village: its households grouped beside the tree (not a
    level of it, so grid codes keep extending the village code). A household belongs to at most
    one (`Household.natural_village`); a scheme may score them (subject kind `natural_village`)
    or rank households within them (`within: natural_village`)."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="natural_villages",
    )
    # Fixed once made: ranking groups of past closes are `<village code>/<code>`.
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=NaturalVillageKind.choices,
        default=NaturalVillageKind.VILLAGERS_GROUP,
    )

    scope_region = "village__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("natural village or villagers' group")
        verbose_name_plural = _("natural villages and villagers' groups")
        ordering = ["village__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["village", "code"], name="natural_village_code_unique"),
            models.UniqueConstraint(fields=["village", "name"], name="natural_village_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rank_group(self) -> str:
        """The ranking group of its households under `within: natural_village`."""
        return natural_village_group(self.village.code, self.code)


def natural_village_group(village_code: str, code: str) -> str:
    """`<village code>/<natural village code>`: a household's ranking group within its natural
    village (engine.Scope and lists.GROUPS build the same string in SQL)."""
    return f"{village_code}/{code}"
