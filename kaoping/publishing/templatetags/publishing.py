from django import template

from kaoping.publishing.selectors import period_label

register = template.Library()


@register.filter
def period_name(period) -> str:
    """A period's label in words: 2026-Q3 → “2026年第3季度”."""
    return period_label(period)
