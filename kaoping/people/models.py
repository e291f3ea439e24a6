from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kaoping.accounts.scoping import ScopedQuerySet
from kaoping.core.privacy import mask_id_number, mask_name, mask_phone
from kaoping.regions.models import NaturalVillage, Region


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
    # The 自然村 or 村民小组 of its village it belongs to, if the village keeps them.
    natural_village = models.ForeignKey(
        NaturalVillage,
        verbose_name=_("natural village or villagers' group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
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


class ResidenceStatus(models.TextChoices):
    PRESENT = "present", _("living here")
    AWAY = "away", _("working away")
    MOVED_OUT = "moved_out", _("moved out")
    DEAD = "dead", _("deceased")


# The members a household has now; the others are its former members.
CURRENT_STATUSES = (ResidenceStatus.PRESENT, ResidenceStatus.AWAY)


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
    # Former members (moved out, deceased) stay in the household's book.
    status = models.CharField(
        _("residence"),
        max_length=10,
        choices=ResidenceStatus.choices,
        default=ResidenceStatus.PRESENT,
        db_default="present",
    )
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


# The default classes; a county may use others (正式党员, 预备党员…): see people.classes.
class MemberClass(models.TextChoices):
    A = "A", _("A: secretary or committee chair")
    B = "B", _("B: other committee member")
    C = "C", _("C: at home without post")
    D = "D", _("D: moved out")
    E = "E", _("E: moved in or dual management")
    F = "F", _("F: elderly, ill or immobile")


class PartyMember(models.Model):
    """A party member, sorted into a class (A–F, or the county's own) for differentiated points."""

    person = models.OneToOneField(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="party_member"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="party_members"
    )
    branch = models.CharField(_("party branch"), max_length=100)
    # Free text checked by people.classes (A–F or the county's classes); the subject's track.
    member_class = models.CharField(_("class"), max_length=32, db_index=True)
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

    def get_member_class_display(self) -> str:
        """A–F with what they mean (A: secretary…); a county's own class as written."""
        try:
            return str(MemberClass(self.member_class).label)
        except ValueError:
            return self.member_class


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
    # A 自然村 or 村民小组 inside a village, scored as a whole.
    NATURAL_VILLAGE = "natural_village", _("natural village (villagers' group)")


class Subject(models.Model):
    """One scored thing. The engine only ever sees subjects; profiles hang off them."""

    kind = models.CharField(_("kind"), max_length=20, choices=SubjectKind.choices)
    # Village for villages, teams, cadres, party members and natural villages; the household's
    # grid for households.
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="subjects"
    )
    name = models.CharField(_("name"), max_length=100)
    # The ranking group and scheme variant: 示范/创优/强基 for villages, the class for party members.
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
    natural_village = models.ForeignKey(
        NaturalVillage,
        verbose_name=_("natural village or villagers' group"),
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
            models.UniqueConstraint(
                fields=["kind", "natural_village"],
                condition=models.Q(natural_village__isnull=False),
                name="subject_natural_village_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ─── the household book (一户一册) ───


class HouseholdTag(models.Model):
    """A label the county puts on households (低保, 脱贫户, 监测户, 独居老人, …)."""

    region = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="household_tags"
    )
    name = models.CharField(_("name"), max_length=30)
    code = models.CharField(_("code"), max_length=30)
    active = models.BooleanField(_("in use"), default=True)

    scope_region = "region__code"
    # The county's tags are seen and used everywhere inside it; configured at the county.
    scope_includes_ancestors = True
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household tag")
        verbose_name_plural = _("household tags")
        ordering = ["region", "-active", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="household_tag_code_unique"),
            models.UniqueConstraint(fields=["region", "name"], name="household_tag_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class HouseholdTagSpan(models.Model):
    """One stretch of time a household carried a tag: the tag's history, never edited away."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="tag_spans"
    )
    tag = models.ForeignKey(
        HouseholdTag, verbose_name=_("tag"), on_delete=models.PROTECT, related_name="spans"
    )
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The grid visit the tag was added on (grid sits above people: a plain id, set by grid).
    visit_id = models.PositiveBigIntegerField(_("visit"), null=True, blank=True)

    scope_region = "household__region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household tag period")
        verbose_name_plural = _("household tag periods")
        ordering = ["-since", "-id"]
        constraints = [
            # A household carries a tag at most once at a time.
            models.UniqueConstraint(
                fields=["household", "tag"],
                condition=models.Q(until__isnull=True),
                name="household_tag_span_open_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="household_tag_span_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.tag}"


class BookChangeKind(models.TextChoices):
    MOVED_IN = "moved_in", _("moved in")
    MOVED_OUT = "moved_out", _("moved out")
    AWAY = "away", _("left to work away")
    RETURNED = "returned", _("came back")
    BORN = "born", _("born")
    DIED = "died", _("died")
    TAG_ADDED = "tag_added", _("tag added")
    TAG_REMOVED = "tag_removed", _("tag removed")
    EDITED = "edited", _("details changed")


class BookChange(models.Model):
    """One change in a household's book: who changed what, when, and on which visit."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="book_changes",
    )
    # The member concerned; none for a change of the household itself or of its tags.
    person = models.ForeignKey(
        Person,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="book_changes",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=BookChangeKind.choices)
    tag = models.ForeignKey(
        HouseholdTag,
        verbose_name=_("tag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # For an edit: {field: [before, after]}; ID numbers are kept masked here.
    fields = models.JSONField(_("fields changed"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    on_date = models.DateField(_("date of the change"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    made_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # The grid visit the change was made on (grid sits above people: a plain id, set by grid).
    visit_id = models.PositiveBigIntegerField(_("visit"), null=True, blank=True, db_index=True)

    scope_region = "household__region__code"
    scope_household = "household_id"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household book change")
        verbose_name_plural = _("household book changes")
        ordering = ["-made_at", "-id"]
        indexes = [models.Index(fields=["household", "-made_at"], name="book_change_household_idx")]

    def __str__(self) -> str:
        return f"{self.household} {self.get_kind_display()}"


class HouseholdPostKind(models.TextChoices):
    AREA = "area", _("area head (片长)")
    GROUP = "group", _("group head (组长)")
    NEIGHBOUR = "neighbour", _("neighbour head (邻长)")


class HouseholdPost(models.Model):
    """A 三长 post (片长/组长/邻长): a resident looking after some households of a village."""

    region = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="household_posts"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="household_posts"
    )
    post = models.CharField(_("post"), max_length=10, choices=HouseholdPostKind.choices)
    # What the village calls the stretch (一片, 三组, 东头十户), shown beside the post.
    label = models.CharField(_("name of the area"), max_length=30, blank=True)
    households = models.ManyToManyField(
        Household, verbose_name=_("households"), related_name="household_posts", blank=True
    )

    scope_region = "region__code"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household post")
        verbose_name_plural = _("household posts")
        ordering = ["region", "post", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "person", "post"], name="household_post_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_post_display()} {self.person.name}"
