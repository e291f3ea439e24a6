"""What users read for the codes of a plan file: rater pools, aggregations, how a ballot combines."""

from django.utils.translation import gettext_lazy as _

POOL_LABELS = {
    "branch_committee": _("branch committee"),
    "branch_members": _("party members of the branch (mutual rating)"),
    "masses_village": _("households of the village"),
    "masses_linked": _("the member's linked households"),
    "panel": _("panel of judges"),
}

AGGREGATE_LABELS = {
    "mean": _("mean"),
    "trimmed_mean": _("mean without the highest and the lowest"),
}

COMBINE_LABELS = {
    "mean": _("mean of the questions"),
    "sum": _("sum of the questions"),
}

FLAG_LABELS = {
    "short": _("too few ballots"),
    "all_same": _("every ballot gave the same mark"),
    "relatives": _("ballots from close relatives"),
}


def pool_label(code: object) -> str:
    value = str(getattr(code, "value", code))
    return str(POOL_LABELS.get(value, value))


def aggregate_label(code: object) -> str:
    value = str(getattr(code, "value", code))
    return str(AGGREGATE_LABELS.get(value, value))


def combine_label(code: object) -> str:
    value = str(getattr(code, "value", code))
    return str(COMBINE_LABELS.get(value, value))


def flag_label(code: object) -> str:
    return str(FLAG_LABELS.get(str(code), code))
