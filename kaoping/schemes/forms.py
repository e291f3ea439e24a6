"""Forms of the schemes' pages."""

from django import forms
from django.utils.translation import gettext_lazy


class SchemeUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Scheme file (YAML)"))

    def clean_file(self) -> tuple[str, str]:
        """The file as (name, text)."""
        upload = self.cleaned_data["file"]
        try:
            return upload.name, upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(gettext_lazy("The file is not UTF-8 text.")) from None
