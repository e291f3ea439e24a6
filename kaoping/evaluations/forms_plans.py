"""The form that loads a plan file: an uploaded .yaml file or its text pasted, and — on the list
page — the county or township the plan belongs to."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TEXT_MAX = 200_000  # characters; a real plan is a few hundred lines


class PlanFileForm(forms.Form):
    region = forms.TypedChoiceField(label=gettext_lazy("Plan of"), coerce=int, required=False)
    file = forms.FileField(label=gettext_lazy("Plan file (YAML)"), required=False)
    text = forms.CharField(
        label=gettext_lazy("or paste its text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args, regions=None, **kwargs):
        """`regions`: the counties and townships the user may load a plan for; None when the
        region is fixed (a new version of a plan, from its page)."""
        super().__init__(*args, **kwargs)
        if regions is None:
            del self.fields["region"]
        else:
            self.regions = {r.pk: r for r in regions}
            self.fields["region"].choices = [(r.pk, r.name) for r in regions]
            self.fields["region"].required = True

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload:
            if upload.size > TEXT_MAX * 4:
                raise forms.ValidationError({"file": _("The file is too large for a plan.")})
            try:
                data["loaded"] = (upload.name, upload.read().decode("utf-8"))
            except UnicodeDecodeError:
                raise forms.ValidationError({"file": _("The file is not UTF-8 text.")}) from None
        elif text.strip():
            if len(text) > TEXT_MAX:
                raise forms.ValidationError({"text": _("The text is too long for a plan.")})
            data["loaded"] = (_("pasted text"), text.replace("\r\n", "\n"))
        else:
            raise forms.ValidationError(_("Choose a file or paste its text."))
        if "region" in self.fields and data.get("region") is not None:
            data["region"] = self.regions[data["region"]]
        return data
