"""How a login is named on a page: its person's name or the office it stands for (first_name),
else its username — never a bare username where a name is known."""

from django import template

register = template.Library()


@register.filter
def who(user) -> str:
    if user is None:
        return ""
    return user.first_name or user.get_username()
