"""The ballot forms, built from the campaign's questions: a scale is a row of radio buttons, a
score a number box, and a comment box where the campaign takes one. The fields only carry what
was typed; `ballots.ballot_cast` / `paper_ballots_enter` judge it, by question."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .ballots import COMMENT_MAX
from .spec import Campaign, FormItem


def question_field(item: FormItem) -> forms.Field:
    if item.scale is not None:
        return forms.ChoiceField(
            label=item.name,
            required=False,
            choices=[(name, name) for name in item.scale],
            widget=forms.RadioSelect(attrs={"class": "levels"}),
        )
    return forms.CharField(
        label=item.name,
        required=False,
        max_length=20,
        help_text=_("0 to %(max)s") % {"max": item.max.normalize()},
        widget=forms.NumberInput(
            attrs={"min": 0, "max": item.max, "step": "0.01", "inputmode": "decimal"}
        ),
    )


def comment_field(rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": COMMENT_MAX}),
    )


def field_name(code: str) -> str:
    return f"q_{code}"


class BallotForm(forms.Form):
    """One ballot for one subject (prefix the form with the subject so that a page holds many)."""

    def __init__(self, campaign: Campaign, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        for item in campaign.form:
            self.fields[field_name(item.code)] = question_field(item)
        if campaign.comment:
            self.fields["comment"] = comment_field()

    def questions(self):
        return [self[field_name(item.code)] for item in self.campaign.form]

    def marks(self, data: dict) -> dict:
        return {item.code: data.get(field_name(item.code)) or "" for item in self.campaign.form}

    def error_fields(self) -> dict[str, str]:
        """Service field (a question code) → form field, for form_submit."""
        return {item.code: field_name(item.code) for item in self.campaign.form}


PAPER_ROWS_START = 5
PAPER_ROWS_MAX = 200


def code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code on the ballot"),
        required=False,
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "class": "code-input",
            }
        ),
    )


class PaperBallotsForm(forms.Form):
    """N paper ballots for one subject: row n's rater code (printed on the paper form) is
    `r<n>_code`, its answers `r<n>_q_<code>` and `r<n>_comment`. Rows left wholly blank are
    skipped."""

    rows = forms.IntegerField(min_value=1, max_value=PAPER_ROWS_MAX, widget=forms.HiddenInput)

    def __init__(self, campaign: Campaign, rows: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.row_count = max(1, min(rows, PAPER_ROWS_MAX))
        self.fields["rows"].initial = self.row_count
        for n in range(1, self.row_count + 1):
            self.fields[f"r{n}_code"] = code_field()
            for item in campaign.form:
                self.fields[f"r{n}_{field_name(item.code)}"] = question_field(item)
            if campaign.comment:
                self.fields[f"r{n}_comment"] = comment_field(rows=1)

    def row_fields(self, n: int) -> list[tuple[str, forms.BoundField]]:
        """(service field, bound field) of row n: "code", the question codes, then "comment"."""
        fields = [("code", self[f"r{n}_code"])]
        fields += [
            (item.code, self[f"r{n}_{field_name(item.code)}"]) for item in self.campaign.form
        ]
        if self.campaign.comment:
            fields.append(("comment", self[f"r{n}_comment"]))
        return fields

    def ballots(self, data: dict) -> list[tuple[int, dict]]:
        """(row number on the page, {"code", "marks", "comment"}) of every row not left blank."""
        found = []
        for n in range(1, self.row_count + 1):
            marks = {
                item.code: data.get(f"r{n}_{field_name(item.code)}") or ""
                for item in self.campaign.form
            }
            comment = data.get(f"r{n}_comment") or ""
            code = data.get(f"r{n}_code") or ""
            if any(str(v).strip() for v in marks.values()) or comment.strip() or code.strip():
                found.append((n, {"code": code, "marks": marks, "comment": comment}))
        return found
