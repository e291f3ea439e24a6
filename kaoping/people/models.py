from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.privacy import mask_id_number, mask_name, mask_phone
from kaoping.regions.models import Region


class Household(models.Model):
    """A household (户): the unit of household points, kept by its grid."""

    # The grid when the village has grids, else the village itself.
    region = models.ForeignKey(
        Region,
        verbose_name=_("grid or village"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    number = models.CharField(_("household number"), max_length=30, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    head = models.ForeignKey(
        "Person",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_region = "region__code"
    scope_household = "pk"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        # "households" alone is also a column heading meaning a number of households (户数).
        verbose_name = pgettext_lazy("model", "household")
        verbose_name_plural = pgettext_lazy("model", "households")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Gender(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class Person(models.Model):
    """A resident. The ID number is stored once, here, and shown masked."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="persons"
    )
    name = models.CharField(_("full name"), max_length=50)
    initials = models.CharField(_("pinyin initials"), max_length=20, blank=True, db_index=True)
    id_number = models.CharField(_("ID number"), max_length=18, null=True, blank=True, unique=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    relation = models.CharField(_("relation to head"), max_length=20, blank=True)
    # Close relatives living in other households (parents, children, siblings who set up their own
    # household), as the village registers them: the ledger flags a collector recording for them.
    relatives = models.ManyToManyField(
        "self", verbose_name=_("close relatives"), blank=True, symmetrical=True
    )

    scope_region = "region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["id"]
        indexes = [models.Index(fields=["name"], name="person_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class MemberClass(models.TextChoices):
    A = "A", _("A: secretary or committee chair")
    B = "B", _("B: other committee member")
    C = "C", _("C: at home without post")
    D = "D", _("D: moved out")
    E = "E", _("E: moved in or dual management")
    F = "F", _("F: elderly, ill or immobile")


class PartyMember(models.Model):
    """A party member, sorted into class A–F for differentiated points."""

    person = models.OneToOneField(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="party_member"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="party_members"
    )
    branch = models.CharField(_("party branch"), max_length=100)
    member_class = models.CharField(
        _("class"), max_length=1, choices=MemberClass.choices, db_index=True
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    linked_households = models.ManyToManyField(
        Household,
        verbose_name=_("linked households"),
        related_name="linked_party_members",
        blank=True,
    )

    scope_region = "region__code"
    scope_household = "person__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["member_class", "id"]

    def __str__(self) -> str:
        return self.person.name


class CadrePost(models.TextChoices):
    SECRETARY = "secretary", _("party secretary")
    DEPUTY_SECRETARY = "deputy_secretary", _("deputy party secretary")
    CHAIR = "chair", _("committee chair")
    DEPUTY_CHAIR = "deputy_chair", _("deputy committee chair")
    BRANCH_MEMBER = "branch_member", _("branch committee member")
    COMMITTEE_MEMBER = "committee_member", _("village committee member")


class Cadre(models.Model):
    """A member of a village's two committees (村“两委”)."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="cadre_posts"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="cadres"
    )
    post = models.CharField(_("post"), max_length=20, choices=CadrePost.choices)
    # 一肩挑: the party secretary also chairs the village committee.
    is_one_shoulder = models.BooleanField(_("secretary also chairs the committee"), default=False)
    since = models.DateField(_("in post since"), null=True, blank=True)

    scope_region = "region__code"
    scope_household = "person__household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        ordering = ["region", "post"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_one_shoulder=False) | models.Q(post="secretary"),
                name="cadre_one_shoulder_is_secretary",
            ),
            # A village has one secretary, one chair and one deputy secretary at a time.
            models.UniqueConstraint(
                fields=["region", "post"],
                condition=models.Q(post__in=["secretary", "chair", "deputy_secretary"]),
                name="cadre_single_post_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}（{self.get_post_display()}）"


class GridPostKind(models.TextChoices):
    MEMBER = "member", _("grid member")
    LEADER = "leader", _("grid leader")
    CHIEF = "chief", _("chief grid leader")


class GridPost(models.Model):
    """Who works a grid: 网格员 and 网格长 on a grid, 总网格长 on a village or township."""

    region = models.ForeignKey(
        Region, verbose_name=_("grid or area"), on_delete=models.PROTECT, related_name="grid_posts"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="grid_posts"
    )
    post = models.CharField(_("post"), max_length=10, choices=GridPostKind.choices)

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid post")
        verbose_name_plural = _("grid posts")
        ordering = ["region", "post"]
        constraints = [
            models.UniqueConstraint(fields=["region", "person", "post"], name="grid_post_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region.name} {self.get_post_display()} {self.person.name}"


class SubjectKind(models.TextChoices):
    VILLAGE = "village", _("village or community")
    TEAM = "team", _("two-committee team")
    CADRE = "cadre", _("cadre")
    PARTY_MEMBER = "party_member", _("party member")
    HOUSEHOLD = "household", _("household")
    # A grid (网格) as a whole, scored for its grid members' work (coverage, problems closed).
    GRID = "grid", _("grid")


class Subject(models.Model):
    """One scored thing. The engine only ever sees subjects; profiles hang off them."""

    kind = models.CharField(_("kind"), max_length=20, choices=SubjectKind.choices)
    # Village for villages, teams, cadres and party members; the household's grid for households.
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="subjects"
    )
    name = models.CharField(_("name"), max_length=100)
    # The ranking group and scheme variant: 示范/创优/强基 for villages, class A–F for party members.
    track = models.CharField(_("track"), max_length=32, blank=True, db_index=True)
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subjects",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subjects",
    )
    active = models.BooleanField(_("active"), default=True, db_default=True)

    scope_region = "region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["kind", "region__code", "id"]
        indexes = [models.Index(fields=["kind", "active"], name="subject_kind_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "household"],
                condition=models.Q(household__isnull=False),
                name="subject_household_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "person"],
                condition=models.Q(person__isnull=False),
                name="subject_person_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "region"],
                condition=models.Q(kind__in=["village", "team"]),
                name="subject_region_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name
