"""What users read for the codes of the scheme format: subject kinds and cadences.

The one mapping from a stored code (`village`, `half_year`) to its Chinese label; pages, the
`kaoping scheme check` report and error messages all go through it. An unknown code is shown as
it is rather than hidden, so a new kind is visible before it has a label.
"""

from django.utils.translation import pgettext_lazy

SUBJECT_KIND_LABELS = {
    "village": pgettext_lazy("subject kind", "village"),
    "team": pgettext_lazy("subject kind", "village team"),
    "cadre": pgettext_lazy("subject kind", "village cadre"),
    "party_member": pgettext_lazy("subject kind", "party member"),
    "household": pgettext_lazy("subject kind", "household"),
    "grid": pgettext_lazy("subject kind", "grid"),
    "natural_village": pgettext_lazy("subject kind", "natural village (villagers' group)"),
}

CADENCE_LABELS = {
    "month": pgettext_lazy("cadence", "monthly"),
    "quarter": pgettext_lazy("cadence", "quarterly"),
    "half_year": pgettext_lazy("cadence", "half-yearly"),
    "year": pgettext_lazy("cadence", "yearly"),
}


def subject_kind_label(code: object) -> str:
    """村社, 农户… for a subject kind code; the code itself when it has no label."""
    value = str(getattr(code, "value", code))
    return str(SUBJECT_KIND_LABELS.get(value, value))


def cadence_label(code: object) -> str:
    """月度, 半年度… for a cadence code; the code itself when it has no label."""
    value = str(getattr(code, "value", code))
    return str(CADENCE_LABELS.get(value, value))
