"""A head of household declares a good deed from a phone, and evidence files are served.

Evidence is personal data: files are never served from MEDIA_URL, only by `evidence_file`, to
someone who may see the entry the file belongs to.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.permissions import user_can
from kaoping.core.errors import KaopingError
from kaoping.ledger.evidence import thumbnail_path
from kaoping.ledger.models import Entry, EntrySource, Evidence
from kaoping.ledger.services import entry_record, subject_variant
from kaoping.people.models import Subject, SubjectKind
from kaoping.schemes.models import Scheme, SchemeNode

from .templatetags.scoring import node_rule

# Rating and veto items are decided by others (a rating by the review group, a veto by the
# village committee): a household can only say that something happened, so many times.
DECLARABLE_RULES = ("count", "quantity")


@dataclass(frozen=True)
class Declarable:
    scheme: Scheme
    node: SchemeNode

    @property
    def value(self) -> str:
        return f"{self.scheme.code}:{self.node.code}"


def declarable_items(subject: Subject, schemes) -> list[tuple[str, list[Declarable]]]:
    """The items `subject` may declare, grouped by the list (parent node) they are in."""
    groups: list[tuple[str, list[Declarable]]] = []
    schemes = list(schemes)
    for scheme in schemes:
        version = scheme.latest_version()
        if version is None:
            continue
        nodes = list(
            SchemeNode.objects.filter(version=version, variant=subject_variant(version, subject))
            .exclude(aggregate="metric")
            .order_by("position")
        )
        names = {n.code: n.name for n in nodes if not n.is_item}
        by_parent: dict[str, list[Declarable]] = {}
        for node in nodes:
            if node.is_item and node.declarable and node.rule in DECLARABLE_RULES:
                node.rule_text = node_rule(version, node)
                by_parent.setdefault(node.parent_code or "", []).append(Declarable(scheme, node))
        for parent, items in by_parent.items():
            title = names.get(parent, scheme.name)
            if len(schemes) > 1:
                title = f"{scheme.name} · {title}"
            groups.append((title, items))
    return groups


class ItemSelect(forms.Select):
    """A select whose options say whether the item is counted in units or needs a photo."""

    def __init__(self, *args, meta=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.meta = meta or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"].update(self.meta.get(str(value), {}))
        return option


class DeclareForm(forms.Form):
    subject = forms.ChoiceField(label=gettext_lazy("Household"))
    item = forms.ChoiceField(label=gettext_lazy("What did you do?"))
    quantity = forms.DecimalField(
        label=gettext_lazy("How many"),
        required=False,
        min_value=Decimal("0.001"),
        decimal_places=3,
        max_digits=12,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("When"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=gettext_lazy("What happened"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Who, where, and what you did — the review group reads this."),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, subjects, groups, **kwargs):
        # The labels are questions; a colon after them reads oddly in Chinese.
        super().__init__(*args, label_suffix="", **kwargs)
        self.subjects = {str(s.pk): s for s in subjects}
        if len(subjects) == 1:
            del self.fields["subject"]  # nearly everyone heads one household: no question
        else:
            self.fields["subject"].choices = [(str(s.pk), s.name) for s in subjects]
        self.items = {d.value: d for _title, items in groups for d in items}
        meta = {}
        for value, declarable in self.items.items():
            node = declarable.node
            meta[value] = {
                **({"data-unit": node.unit} if node.rule == "quantity" else {}),
                **({"data-photo": "required"} if node.evidence_required else {}),
            }
        self.fields["item"].widget = ItemSelect(meta=meta)
        self.fields["item"].choices = [
            ("", _("— choose —")),
            *(
                (title, [(d.value, self._item_label(d.node)) for d in items])
                for title, items in groups
            ),
        ]

    @staticmethod
    def _item_label(node: SchemeNode) -> str:
        label = f"{node.name}（{node.rule_text}）"
        if node.evidence_required:
            label += _(", photo needed")
        return label

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        try:
            return uuid.UUID(hex=key).hex
        except ValueError:
            raise forms.ValidationError(
                _("The form is out of date; open it again."), code="key"
            ) from None

    def clean(self):
        data = super().clean()
        data["subject"] = self.subjects.get(data.get("subject") or next(iter(self.subjects)))
        declarable = self.items.get(data.get("item", ""))
        if declarable is None:
            return data
        data["declarable"] = declarable
        if declarable.node.rule == "quantity":
            if data.get("quantity") is None and "quantity" not in self.errors:
                self.add_error(
                    "quantity",
                    _("Say how many (in %(unit)s).") % {"unit": declarable.node.unit},
                )
        else:
            data["quantity"] = Decimal(1)
        return data


def villager_subjects(user) -> list[Subject]:
    """The household subjects `user` declares for: households named by their villager roles."""
    households = RoleAssignment.objects.filter(user=user, role=Role.VILLAGER).values("household")
    return list(
        Subject.objects.for_user(user, "entry.declare")
        .filter(kind=SubjectKind.HOUSEHOLD, household__in=households, active=True)
        .select_related("region")
        .order_by("pk")
    )


@login_required
def declare(request):
    user = request.user
    if not user_can(user, "entry.declare"):
        raise PermissionDenied
    subjects = villager_subjects(user)
    if not subjects:
        # A household gets its subject when a household scheme is loaded: nothing to declare yet.
        return render(request, "console/declare.html", {"has_items": False})
    schemes = Scheme.objects.for_user(user, "entry.declare").filter(
        subject_kind=SubjectKind.HOUSEHOLD
    )
    # Every household of a county is scored by the same schemes with the same tree (households
    # have no track), so the first household's items serve them all.
    groups = declarable_items(subjects[0], schemes)
    if request.method == "POST":
        form = DeclareForm(request.POST, request.FILES, subjects=subjects, groups=groups)
        if form.is_valid():
            data = form.cleaned_data
            subject = data["subject"]
            declarable = data["declarable"]
            try:
                entry, created = entry_record(
                    scheme=declarable.scheme,
                    subject=subject,
                    item_code=declarable.node.code,
                    occurred_on=data["occurred_on"],
                    quantity=data["quantity"],
                    note=data["note"].strip(),
                    acting_user=user,
                    source=EntrySource.DECLARED,
                    # The key is the user's own: a key guessed from someone else's form
                    # must not return their entry.
                    idempotency_key=f"declare:{user.pk}:{data['idempotency_key']}",
                    evidence=[data["photo"]] if data["photo"] else [],
                    declared=True,
                )
            except KaopingError as exc:
                fields = {"item_code": "item", "evidence": "photo"}
                for field, errors in exc.message_dict.items():
                    field = fields.get(field, field)
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if created:
                    messages.success(
                        request,
                        _("Declared: %(item)s. The review group will check it.")
                        % {"item": declarable.node.name},
                    )
                else:
                    messages.info(request, _("This declaration was already sent."))
                return HttpResponseRedirect(reverse("console:subject", args=[entry.subject_id]))
    else:
        form = DeclareForm(
            subjects=subjects,
            groups=groups,
            initial={"occurred_on": timezone.localdate(), "idempotency_key": uuid.uuid4().hex},
        )
    return render(
        request,
        "console/declare.html",
        {"form": form, "has_items": bool(groups)},
    )


@login_required
def evidence_file(request, pk: int):
    """One evidence file (or its thumbnail with ?thumb=1), to whoever may see its entry."""
    visible = Entry.objects.for_user(request.user, "entry.view")
    evidence = Evidence.objects.filter(pk=pk, entry__in=visible).first()
    if evidence is None:
        raise Http404
    name = evidence.file.name
    content_type = evidence.content_type
    if request.GET.get("thumb") and evidence.content_type.startswith("image/"):
        thumb = thumbnail_path(evidence.sha256)
        if default_storage.exists(thumb):
            name, content_type = thumb, "image/jpeg"
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    stem = evidence.original_name.rsplit(".", 1)[0] or "evidence"
    response = FileResponse(
        handle,
        content_type=content_type,
        # A PDF may carry scripts: it is downloaded, not shown inside our origin.
        as_attachment=content_type == "application/pdf",
        filename=f"{stem}{evidence.extension}",
    )
    # Personal data: kept by the user's own browser only. The bytes never change (the name is
    # their hash), so the browser may keep them for a day.
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
