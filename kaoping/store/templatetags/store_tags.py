from django import template

from kaoping.core.templatetags.scoring import pts

register = template.Library()


@register.filter
def sub_points(value, other):
    """`value − other` as points (how many more points a household needs)."""
    return pts(value - other)


@register.filter
def neg_points(value):
    return pts(-value)
