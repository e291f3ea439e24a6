from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def points(version, scaled):
    """A scaled integer of `version` shown as points (— for none)."""
    value = version.to_points(scaled)
    return "—" if value is None else f"{value.normalize():f}"


@register.simple_tag
def node_rule(version, node):
    """How an item scores, in words: “+5/次”, “−2/亩”, “评议 × 20”, “指标分档”, “一票否决”."""
    if node.rule in ("count", "quantity"):
        value = version.to_points(node.points).normalize()
        sign = "+" if value > 0 else ""
        unit = node.unit or _("occurrence")
        return f"{sign}{value:f}/{unit}"
    if node.rule == "rating":
        return _("rating × %(w)s") % {"w": f"{version.to_points(node.weight).normalize():f}"}
    if node.rule == "metric":
        # The metric's name is a code (visit_coverage): show the label the file gives it, or
        # the item's own name, which for a metric item names the figure.
        label = version.spec().metric_label(node.metric) if node.metric else None
        if node.linear_unit is not None:
            return _linear_rule(version, node, label or node.name)
        return _("by bands of %(m)s") % {"m": label or node.name}
    if node.rule == "veto":
        return _("veto")
    return ""


def _linear_rule(version, node, metric: str) -> str:
    """A linear metric item in words: “以“增长率” 20 为基准得 10 分，每高 1 加 5 分，每低 1 减
    5 分，最低 0，最高 20”."""
    step = version.to_points(node.linear_step)
    words = {
        "m": metric,
        "target": f"{version.to_metric(node.linear_target).normalize():f}",
        "unit": f"{version.to_metric(node.linear_unit).normalize():f}",
        "base": points(version, node.linear_base),
        "step": f"{abs(step).normalize():f}",
    }
    if step >= 0:
        text = _(
            "%(m)s: %(base)s at %(target)s, plus %(step)s for every %(unit)s above, "
            "minus %(step)s for every %(unit)s below"
        )
    else:
        text = _(
            "%(m)s: %(base)s at %(target)s, minus %(step)s for every %(unit)s above, "
            "plus %(step)s for every %(unit)s below"
        )
    parts = [text % words]
    if node.linear_floor is not None:
        parts.append(_("floor %(v)s") % {"v": points(version, node.linear_floor)})
    if node.linear_max is not None:
        parts.append(_("max %(v)s") % {"v": points(version, node.linear_max)})
    return "，".join(parts)


@register.simple_tag
def node_limits(version, node):
    parts = []
    if node.base:
        parts.append(_("base %(v)s") % {"v": points(version, node.base)})
    if node.cap is not None:
        parts.append(_("cap %(v)s") % {"v": points(version, node.cap)})
    if node.max is not None:
        parts.append(_("max %(v)s") % {"v": points(version, node.max)})
    if node.floor is not None:
        parts.append(_("floor %(v)s") % {"v": points(version, node.floor)})
    return "，".join(parts)


@register.filter
def pts(value):
    """Points without trailing zeros: 20.00 → 20, 3.750 → 3.75 (exact; no float)."""
    if value is None or value == "":
        return "—"
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    return "0" if text in ("-0", "") else text
