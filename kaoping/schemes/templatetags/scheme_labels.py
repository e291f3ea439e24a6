"""Template filters for the labels of scheme codes: `{{ s.subject_kind|subject_kind }}`."""

from django import template

from kaoping.schemes.labels import cadence_label, subject_kind_label

register = template.Library()

register.filter("subject_kind", subject_kind_label)
register.filter("cadence", cadence_label)
