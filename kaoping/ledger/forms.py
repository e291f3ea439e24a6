"""Forms of the ledger's pages: one entry, a household's declaration, an Excel upload."""

import uuid
from decimal import Decimal
from pathlib import Path

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.schemes.models import Scheme, SchemeNode

MAX_UPLOAD_BYTES = 30 * 1024 * 1024


class ImportUploadForm(forms.Form):
    scheme = forms.ModelChoiceField(queryset=Scheme.objects.none(), label=gettext_lazy("Scheme"))
    file = forms.FileField(
        label=gettext_lazy("Filled-in template (.xlsx) or CSV"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv"}),
    )

    def __init__(self, *args, schemes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".xlsx", ".xlsm", ".csv"}:
            raise forms.ValidationError(gettext_lazy("Upload the .xlsx template (or a .csv)."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                gettext_lazy("The file is larger than 30 MB; split it into smaller files.")
            )
        return upload


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Photos or PDFs behind an entry, several at once; checked by `ledger.evidence`.

    No `capture` attribute: on Android it would open the camera alone, and staff also attach
    photos taken earlier (an 暗访 round) and notices as PDF. Without it a phone's chooser offers
    the camera, the gallery and files.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*,application/pdf", "multiple": True}),
        )
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(EvidenceField, self).clean(f, initial) for f in files]


class EvidenceAttachForm(forms.Form):
    evidence = EvidenceField(
        label=gettext_lazy("Photos or files"),
        required=True,
        help_text=gettext_lazy("Take a photo or choose photos or PDF files (up to 6)."),
    )


class EntryForm(forms.Form):
    item_code = forms.ChoiceField(label=gettext_lazy("Item"))
    # No lower bound here: a ± adjustment takes negative points; the Recorder refuses a
    # quantity ≤ 0 on any other item, naming this field.
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"), initial=1, decimal_places=3, max_digits=12
    )
    label = forms.ChoiceField(label=gettext_lazy("Rating"), required=False)
    occurred_on = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    # Which assessment the entry belongs to: the scheme's own period of the date, or a roll-up
    # level assessed in its own right (the year-end assessment); only when the scheme has one.
    cadence = forms.ChoiceField(
        label=gettext_lazy("Counts in"),
        required=False,
        help_text=gettext_lazy("The period of the date at that level, e.g. the year of the date."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)
    evidence = EvidenceField(
        label=gettext_lazy("Photos or files"),
        help_text=gettext_lazy(
            "Take a photo or choose photos or PDF files (up to 6). Items marked “photo needed” require one."
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args,
        items,
        labels,
        needs_evidence=frozenset(),
        levels=(),
        adjustment=None,
        **kwargs,
    ):
        """`levels`: (cadence, label) choices of the assessments the entry may count in, the
        scheme's own periods ("") first; with one choice the field is left out. `adjustment`:
        (item code, first roll-up level) of the scheme's ± adjustments, when it takes them; the
        page's script then picks that level, asks for the reason and says points."""
        super().__init__(*args, **kwargs)
        if len(levels) > 1:
            self.fields["cadence"].choices = list(levels)
        else:
            del self.fields["cadence"]
        meta = {code: {"data-photo": "required"} for code in needs_evidence}
        if adjustment is not None:
            code, level = adjustment
            meta[code] = {"data-adjust": level}
        self.fields["item_code"].widget = ItemSelect(meta=meta)
        self.fields["item_code"].choices = [
            (code, name + _(", photo needed") if code in needs_evidence else name)
            for code, name in items
        ]
        self.fields["label"].choices = [("", "—"), *labels]


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
