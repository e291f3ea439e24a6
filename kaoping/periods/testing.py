"""Test helpers: the node values a close kept in its results' breakdowns."""

from .breakdown import NodeValue
from .models import Period, Result


def result_nodes(period: Period, **filters) -> dict[tuple[int, str], NodeValue]:
    """Every node value the close of `period` kept, by (subject id, code); `filters` narrow the
    results read (e.g. subject=…)."""
    return {
        (result.subject_id, code): node
        for result in Result.objects.filter(period=period, **filters)
        for code, node in result.nodes().items()
    }


def result_node(period: Period, subject, code: str) -> NodeValue | None:
    """One subject's value of node `code` in `period`, None when it has no member (nothing was
    recorded below it, or no result)."""
    result = Result.objects.filter(period=period, subject=subject).first()
    return result.nodes().get(code) if result is not None else None


def node_rows(results) -> list[tuple[Result, str, NodeValue]]:
    """(result, code, node value) of every member of the breakdowns of `results` (a queryset)."""
    return [(result, code, node) for result in results for code, node in result.nodes().items()]
