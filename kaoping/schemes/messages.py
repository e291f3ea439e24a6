"""What a county reads when its scheme file is refused: YAML and format errors in Chinese.

The loader finds problems as data paths (`tree[0].children[1].points`) and YAML or pydantic
errors in English; this module turns them into what a county can act on: the line as its editor
counts it, the place by the codes and names it wrote (`A 党建 › A2 开会`), what is wrong and what
is allowed. Nothing here decides whether a file is valid.
"""

import bisect
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import yaml
from django.utils.translation import gettext as _

# Readable names of the top-level sections, for a place outside the tree.
_SECTIONS = {
    "tree": "",
    "grades": "等次 grades",
    "rollups": "汇总 rollups",
    "variants": "变体 variants",
    "ranking": "排名 ranking",
    "defaults": "默认值 defaults",
    "consequences": "结果运用 consequences",
    "review": "审核 review",
    "posting": "公示 posting",
    "account": "积分账户 account",
    "metrics": "指标名称 metrics",
    "overlays": "本乡镇/本村增加 overlays",
}
_RULES = "count、quantity、rating、metric、veto"


class LineIndex:
    """Lines as an editor counts them (only \\n ends a line), by character index.

    PyYAML also ends lines at U+2028, U+2029 and U+0085, which text pasted from Word or a
    messaging app carries inside a name; its own line numbers (`mark.line`) then run ahead of
    the editor's from there on. Its `mark.index` is exact, so lines are counted from that.
    """

    def __init__(self, text: str) -> None:
        self._breaks = [i for i, c in enumerate(text) if c == "\n"]

    def line(self, index: int) -> int:
        return bisect.bisect_left(self._breaks, index) + 1


def line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def show(value: Any) -> str:
    """A value as the county wrote it, for a message."""
    if isinstance(value, Decimal):
        return f"“{format(value, 'f')}”"
    if isinstance(value, bool):
        return f"“{str(value).lower()}”"
    if isinstance(value, Mapping):
        return _("a mapping (key: value)")
    if isinstance(value, list | tuple):
        return _("a list")
    if value is None or value == "":
        return _("nothing")
    return f"“{value}”"


def choices(names: Sequence[str]) -> str:
    return "、".join(str(n) for n in names)


def quoted_choices(expected: str) -> str:
    """Pydantic's "'a', 'b' or 'c'" as "a、b、c"."""
    found = re.findall(r"'([^']*)'", expected)
    return choices(found) if found else expected


def field_text(rel: Sequence[str | int]) -> str:
    """A key path inside one object: ('bands', 1, 'max') → "bands 第 2 项 › max"."""
    out: list[str] = []
    for part in rel:
        if isinstance(part, int) and out:
            out[-1] += " " + _("item %(n)d") % {"n": part + 1}
        else:
            out.append(_("item %(n)d") % {"n": part + 1} if isinstance(part, int) else str(part))
    return " › ".join(out)


def where_text(data: Any, path: Sequence[str | int], names: Mapping[str, str] | None = None) -> str:
    """The place of an object by the codes and names in the file: "A 党建 › A2 开会"; `names`
    (code → name of the tree) names the items a variant overrides."""
    parts: list[str] = []
    value = data
    parent_key: str | int | None = None
    for n, part in enumerate(path):
        child = _step(value, part)
        if isinstance(part, int):
            label = _label(child)
            if parent_key in ("tree", "children", "add"):
                parts.append(label or _("item %(n)d") % {"n": part + 1})
            else:
                number = _("item %(n)d") % {"n": part + 1}
                before = parts.pop() if parts else ""
                parts.append(f"{before} {number}".strip() + (f"（{label}）" if label else ""))
        elif n == 0 and part in _SECTIONS:
            if _SECTIONS[part]:
                parts.append(_SECTIONS[part])
        elif parent_key in ("items", "nodes") and path[0] in ("variants", "overlays") and names:
            parts.append(f"{part} {names[part]}" if part in names else str(part))
        elif part != "children":
            parts.append(str(part))
        parent_key = part
        value = child
    return " › ".join(p for p in parts if p)


def place_of(data: Any, path: Sequence[str | int]) -> tuple[str | int, ...]:
    """The object a problem at `path` is about: the path without its last key when that key
    holds a value rather than an object (or is missing), so "P01 见义勇为" rather than
    "P01 见义勇为 › points"; the message itself names the key."""
    path = tuple(path)
    if path and isinstance(path[-1], str):
        value = data
        for part in path:
            value = _step(value, part)
        if not isinstance(value, Mapping):
            return path[:-1]
    return path


def _step(value: Any, part: str | int) -> Any:
    if isinstance(value, Mapping) and part in value:
        return value[part]
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _label(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    parts = (value.get(k) for k in ("code", "name"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and _printable(p))


def _printable(text: str) -> bool:
    """No control, format or separator characters: a refused name is not echoed as the place."""
    return all(unicodedata.category(c)[0] != "C" and c not in "\u2028\u2029" for c in text)


# -- YAML syntax --------------------------------------------------------------------------------


def yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """(line, message in Chinese) for a YAML syntax error, at the line where the mistake is.

    PyYAML reports where it gave up, which for an unclosed bracket or quote, or a key without
    its colon, is the next line or the end of the file; the mistake is where the bracket,
    quote or key began (its context mark).
    """
    problem = exc.problem or ""
    context = exc.context or ""
    problem_line = line_at(text, exc.problem_mark.index) if exc.problem_mark else None
    context_line = line_at(text, exc.context_mark.index) if exc.context_mark else None
    if "flow mapping" in context:
        return context_line, _(
            "the { opened on this line is not closed with }, or two entries inside it are not "
            "separated by a comma"
        )
    if "flow sequence" in context:
        return context_line, _(
            "the [ opened on this line is not closed with ], or two entries inside it are not "
            "separated by a comma"
        )
    if "quoted scalar" in context:
        return context_line, _("the quotation mark opened on this line is never closed")
    if "simple key" in context or "could not find expected ':'" in problem:
        wide = _full_width_colon_line(text, context_line or problem_line)
        if wide is not None:
            return wide, _(
                "a Chinese colon “：” is used: write an English colon followed by a space "
                "(“key: value”)"
            )
        return context_line or problem_line, _(
            "a colon is missing: write “key: value” (an English colon followed by a space)"
        )
    if "mapping values are not allowed" in problem:
        wide = _full_width_colon_line(text, problem_line)
        if wide is not None:
            return wide, _(
                "a Chinese colon “：” is used: write an English colon followed by a space "
                "(“key: value”)"
            )
        return problem_line, _(
            "“key: value” cannot stand here: check the indentation of this line, and put text "
            "that contains a colon in quotation marks"
        )
    if "'\\t'" in problem or "\\t" in problem:
        return problem_line, _("a tab is used for indentation: indent with spaces only")
    if "block collection" in context:
        return problem_line, _(
            "the indentation is wrong: this line is not aligned with the list entries "
            "(lines starting with “- ”) above it"
        )
    if "block mapping" in context or "expected <block end>" in problem:
        return problem_line, _(
            "the indentation is wrong: this line is not aligned with the keys of the same "
            "level above it"
        )
    if "undefined alias" in problem:
        return problem_line, _("an alias (*name) refers to an anchor (&name) that is not defined")
    if isinstance(exc, yaml.composer.ComposerError) and not context:
        # The loader's own limits (nesting depth) say it in the user's language already.
        return problem_line, problem
    return problem_line or context_line, _(
        "this line cannot be read as YAML: check its indentation, colons, quotation marks and "
        "brackets"
    )


def _full_width_colon_line(text: str, line: int | None) -> int | None:
    """The line at or just before `line` that uses a Chinese colon where a key ends."""
    if line is None:
        return None
    lines = text.split("\n")
    for number in (line, line - 1):
        if 1 <= number <= len(lines):
            content = lines[number - 1].split("#", 1)[0]
            if "：" in content and ": " not in content.split("：", 1)[0]:
                return number
    return None


# -- pydantic ------------------------------------------------------------------------------------


def pydantic_message(
    kind_of: str,
    error: Mapping[str, Any],
    field: str,
    last: str,
    *,
    allowed: Sequence[str] = (),
    suggestion: str | None = None,
    owners: Sequence[str] = (),
    is_item: bool = False,
    is_group: bool = False,
    item_rule: str | None = None,
    scheme_code: bool = False,
    pattern_help: str | None = None,
) -> str:
    """One pydantic error as Chinese: the key, what is wrong, what is allowed."""
    ctx = error.get("ctx") or {}
    value = error.get("input")
    bound = {"field": field, "value": show(value)}
    match kind_of:
        case "extra_forbidden":
            text = _("unknown key “%(key)s”") % {"key": last}
            if suggestion and suggestion != last:
                return text + _(" (did you mean “%(near)s”?)") % {"near": suggestion}
            if owners and is_item:
                return text + _(" (only items with rule %(rules)s have it)") % {
                    "rules": choices(owners)
                }
            if owners and is_group:
                return text + _(
                    " (a group has no item keys: add rule: %(rules)s to make it an item)"
                ) % {"rules": _RULES}
            if allowed:
                return text + _("; the keys allowed here are %(keys)s") % {"keys": choices(allowed)}
            return text
        case "missing":
            if is_group and field == "children":
                return _(
                    "a group needs children (the items below it); if this is an item, give it "
                    "rule: %(rules)s"
                ) % {"rules": _RULES}
            if item_rule:
                return _("%(field)s is required for an item with rule %(rule)s") % {
                    "field": field,
                    "rule": item_rule,
                }
            return _("%(field)s is required") % bound
        case "union_tag_invalid":
            tag = ctx.get("tag")
            got = _("nothing") if tag in (None, "None") else f"“{tag}”"
            return _(
                "rule must be one of count (per occurrence), quantity (per unit), rating, "
                "metric (by bands) or veto; it is %(got)s"
            ) % {"got": got}
        case "literal_error" | "enum":
            return _("%(field)s must be one of %(allowed)s; it is %(value)s") % {
                **bound,
                "allowed": quoted_choices(str(ctx.get("expected", ""))),
            }
        case "greater_than_equal":
            return _("%(field)s must be at least %(n)s") % {**bound, "n": ctx.get("ge")}
        case "greater_than":
            return _("%(field)s must be more than %(n)s") % {**bound, "n": ctx.get("gt")}
        case "less_than_equal":
            return _("%(field)s must be at most %(n)s") % {**bound, "n": ctx.get("le")}
        case "less_than":
            return _("%(field)s must be less than %(n)s") % {**bound, "n": ctx.get("lt")}
        case "string_pattern_mismatch":
            if scheme_code:
                return (
                    _("code %(value)s may use only lowercase letters, digits, “-” and “_”") % bound
                )
            return _("%(field)s %(value)s: %(help)s") % {
                **bound,
                "help": pattern_help or _("contains characters that are not allowed"),
            }
        case "string_too_short" | "too_short":
            return _("%(field)s must not be empty") % bound
        case "string_too_long" | "too_long":
            return _("%(field)s is longer than %(n)s characters") % {
                **bound,
                "n": ctx.get("max_length"),
            }
        case "string_type":
            return _("%(field)s must be text; it is %(value)s") % bound
        case "decimal_parsing" | "decimal_type" | "float_parsing" | "float_type":
            return _("%(field)s must be a number; it is %(value)s") % bound
        case "finite_number" | "decimal_max_digits" | "decimal_max_places":
            return _("%(field)s must be an ordinary finite number; it is %(value)s") % bound
        case "int_type" | "int_parsing" | "int_from_float":
            return _("%(field)s must be a whole number; it is %(value)s") % bound
        case "date_type" | "date_parsing" | "date_from_datetime_parsing":
            return _("%(field)s must be a date written like 2026-08-31; it is %(value)s") % bound
        case "date_from_datetime_inexact":
            return _("%(field)s must be a day without a time, like 2026-08-31; it is %(value)s") % (
                bound
            )
        case "bool_type" | "bool_parsing":
            return _("%(field)s must be true or false; it is %(value)s") % bound
        case "list_type" | "tuple_type":
            return _("%(field)s must be a list (entries starting with “- ”); it is %(value)s") % (
                bound
            )
        case "dict_type" | "model_type" | "model_attributes_type":
            return _("%(field)s must be a mapping of key: value; it is %(value)s") % bound
        case "value_error" | "assertion_error":
            # Our own validators raise messages already in the user's language.
            reason = str(error.get("msg", "")).removeprefix("Value error, ")
            reason = reason.removeprefix("Assertion failed, ")
            return f"{field}：{reason}" if field else reason
    return _("%(field)s has a value that is not allowed: %(value)s") % bound
