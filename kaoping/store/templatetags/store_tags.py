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


@register.inclusion_tag("store/_account_order.html")
def account_order(account):
    """The balances the scheme's event order keeps beside the spendable points: the base, held
    credits, debt and a suspension (docs/schemes.md §16)."""
    from kaoping.store.services import account_policy

    policy = account_policy(account.scheme) if account is not None else None
    return {"account": account, "policy": policy}
