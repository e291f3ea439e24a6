"""`{% subject_decisions subject %}`: a subject's decisions (处理决定) on its page, for pages of
apps below outcomes (periods' subject page) that may not import it."""

from django import template

from kaoping.outcomes.decisions import decision_list

register = template.Library()


@register.inclusion_tag("outcomes/_subject_decisions.html", takes_context=True)
def subject_decisions(context, subject):
    user = context["request"].user
    return {"decisions": list(decision_list(user, subject=subject)[:50])}
