"""Scheme files: YAML text → `SchemeSpec`, with every problem reported at its file line.

PyYAML's own constructor loses line numbers and turns `0.1` into a binary float, so the file is
only *composed* (parsed into nodes that carry marks) and converted here: numbers become Decimal
(ints stay int), duplicate keys are errors rather than silently overwritten, and the line of
every key and list element is recorded by its data path. Pydantic errors and `check_scheme`
findings both come back as data paths, which are looked up in that table.
"""

import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from kaoping.schemes.checks import Finding, check_scheme, path_text, suggest_key
from kaoping.schemes.spec import (
    CHILD_TAGS,
    DEFER_CHECKS,
    ITEM_MODELS,
    AccountPolicy,
    Band,
    Consequences,
    Defaults,
    Grade,
    MetricItem,
    Node,
    Posting,
    Ranking,
    RatingItem,
    Review,
    Rollup,
    RollupPart,
    SchemeError,
    SchemeProblem,
    SchemeSpec,
    Variant,
    VariantItem,
    VariantNode,
    _ItemBase,
)

__all__ = [
    "SchemeError",
    "SchemeProblem",
    "load_scheme_data",
    "load_scheme_file",
    "load_scheme_text",
]

DataPath = tuple[str | int, ...]  # keys and list indices from the top of the file

_TAG = "tag:yaml.org,2002:"
_PLAIN_DECIMAL = re.compile(r"^[-+]?(\d[\d_]*)?(\.[\d_]*)?([eE][-+]?\d+)?$")
# Aliases let a tiny file expand into a huge tree ("billion laughs"); no real scheme comes close.
_MAX_VALUES = 200_000


def load_scheme_file(path: str | os.PathLike[str]) -> SchemeSpec:
    """Read and validate one scheme file; raise SchemeError listing every problem."""
    filename = os.fspath(path)
    try:
        with open(filename, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError([SchemeProblem(filename, None, "", f"cannot read file: {exc}")]) from exc
    return load_scheme_text(text, filename=filename)


def load_scheme_text(text: str, filename: str = "<string>") -> SchemeSpec:
    """Parse and validate scheme YAML; raise SchemeError listing every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise SchemeError([SchemeProblem(filename, line, "", f"YAML syntax: {message}")]) from exc
    except yaml.YAMLError as exc:
        raise SchemeError([SchemeProblem(filename, None, "", f"YAML: {exc}")]) from exc
    if root is None:
        raise SchemeError([SchemeProblem(filename, 1, "", "the file is empty")])
    converter = _Converter(filename)
    data = converter.convert(root, ())
    if converter.problems:
        raise SchemeError(converter.problems)
    return load_scheme_data(data, filename=filename, lines=converter.lines)


def load_scheme_data(
    data: Any, filename: str = "<data>", *, lines: Mapping[DataPath, int] | None = None
) -> SchemeSpec:
    """Validate already-parsed data (e.g. a stored JSON copy); `lines` maps data paths to lines."""
    locator = _Locator(filename, data, lines or {})
    if not isinstance(data, Mapping):
        raise SchemeError(
            [SchemeProblem(filename, 1, "", "a scheme must be a mapping (key: value)")]
        )
    try:
        spec = SchemeSpec.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        problems = [p for e in exc.errors(include_url=False) if (p := locator.pydantic_problem(e))]
        raise SchemeError(_sorted(problems)) from None
    findings = check_scheme(spec)
    errors = [locator.finding_problem(f) for f in findings if not f.warning]
    if errors:
        raise SchemeError(_sorted(errors))
    spec._warnings = [str(locator.finding_problem(f)) for f in findings if f.warning]
    return spec


def _sorted(problems: list[SchemeProblem]) -> list[SchemeProblem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line or 0)


class _Converter:
    """YAML nodes → plain data (Decimal numbers), recording the line of every data path."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[DataPath, int] = {(): 1}
        self.problems: list[SchemeProblem] = []
        self._constructor = SafeConstructor()
        self._count = 0

    def problem(self, node: YamlNode, path: DataPath, message: str) -> None:
        self.problems.append(
            SchemeProblem(self.filename, node.start_mark.line + 1, path_text(path), message)
        )

    def convert(self, node: YamlNode, path: DataPath) -> Any:
        self._count += 1
        if self._count > _MAX_VALUES:
            if self._count == _MAX_VALUES + 1:
                self.problem(node, path, f"more than {_MAX_VALUES} values (runaway aliases?)")
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                self.problem(node, path, f"unsupported YAML tag {node.tag}")
            out = []
            for i, element in enumerate(node.value):
                self.lines[(*path, i)] = element.start_mark.line + 1
                out.append(self.convert(element, (*path, i)))
            return out
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            self.problem(node, path, f"unsupported YAML tag {node.tag}")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.problem(key_node, path, "merge keys (<<) are not supported: write keys out")
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, "a key must be plain text")
                continue
            # Keys stay text as written: variant labels such as `1` or `NO` are labels, not
            # numbers or booleans.
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in out:
                first = self.lines.get((*path, key))
                self.problem(key_node, path, f"duplicate key '{key}' (first at line {first})")
                continue
            self.lines[(*path, key)] = line
            out[key] = self.convert(value_node, (*path, key))
        return out

    def _scalar(self, node: ScalarNode, path: DataPath) -> Any:
        tag = node.tag
        if tag == _TAG + "str" or tag == _TAG + "timestamp":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return self._constructor.construct_yaml_bool(node)
        if tag == _TAG + "int":
            return self._constructor.construct_yaml_int(node)
        if tag == _TAG + "float":
            text = node.value.replace("_", "")
            if _PLAIN_DECIMAL.match(text):
                try:
                    return Decimal(text)
                except InvalidOperation:
                    pass
            if text.lower().lstrip("+-") in (".inf", ".nan"):
                self.problem(node, path, f"{path_text(path)} must be a finite number")
                return None
            # YAML 1.1 oddities such as 1:30 (sexagesimal); exact enough through str().
            return Decimal(str(self._constructor.construct_yaml_float(node)))
        self.problem(node, path, f"unsupported YAML tag {tag}")
        return node.value


# -- mapping errors back to lines ---------------------------------------------------------------

# What a data path points at: a model class (an object of the file) or a container marker.
_CHILDREN, _BANDS, _GRADES, _ROLLUPS, _PARTS = "children", "bands", "grades", "rollups", "parts"
_VARIANTS, _VARIANT_ITEMS, _VARIANT_NODES, _FREE = "variants", "v-items", "v-nodes", "free"
_ITEM_FIELDS = sorted({f for m in ITEM_MODELS.values() for f in m.model_fields})

_CONTAINERS: dict[Any, dict[str, Any]] = {
    SchemeSpec: {
        "tree": _CHILDREN,
        "grades": _GRADES,
        "rollups": _ROLLUPS,
        "variants": _VARIANTS,
        "ranking": Ranking,
        "defaults": Defaults,
        "consequences": Consequences,
        "review": Review,
        "posting": Posting,
        "account": AccountPolicy,
    },
    Node: {"children": _CHILDREN},
    MetricItem: {"bands": _BANDS},
    RatingItem: {"levels": _FREE},
    Rollup: {"parts": _PARTS},
    Variant: {"items": _VARIANT_ITEMS, "nodes": _VARIANT_NODES, "exclude": _FREE},
}
_ELEMENTS: dict[str, Any] = {
    _BANDS: Band,
    _GRADES: Grade,
    _ROLLUPS: Rollup,
    _PARTS: RollupPart,
    _VARIANTS: Variant,
    _VARIANT_ITEMS: VariantItem,
    _VARIANT_NODES: VariantNode,
}


def _child_model(value: Any) -> Any:
    if isinstance(value, Mapping) and "rule" in value:
        return ITEM_MODELS.get(str(value["rule"]), _ItemBase)
    return Node


_PATTERN_HELP = {
    "code": "may use only letters, digits, '_', '.' and '-'",
    "grade": "may use only letters, digits, '_', '.' and '-'",
    "metric": "must be a lowercase name like visit_coverage",
    "owner": "must not contain spaces (e.g. dept:political_legal)",
}


class _Locator:
    """Turns data paths into (line, object path, label) for problem messages."""

    def __init__(self, filename: str, data: Any, lines: Mapping[DataPath, int]) -> None:
        self.filename = filename
        self.data = data
        self.lines = lines
        self.names: dict[str, str] = {}
        self._collect_names(data.get("tree") if isinstance(data, Mapping) else None)

    def _collect_names(self, children: Any) -> None:
        if not isinstance(children, list):
            return
        for child in children:
            if isinstance(child, Mapping):
                code, name = child.get("code"), child.get("name")
                if isinstance(code, str) and isinstance(name, str):
                    self.names.setdefault(code, name)
                self._collect_names(child.get("children"))

    def _value(self, path: DataPath) -> Any:
        value = self.data
        for part in path:
            in_mapping = isinstance(value, Mapping) and part in value
            in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            if not (in_mapping or in_list):
                return None
            value = value[part]
        return value

    def _kinds(self, path: DataPath) -> list[Any]:
        """The kind of each prefix of `path` (index 0: the whole file)."""
        kinds: list[Any] = [SchemeSpec]
        for n, part in enumerate(path):
            parent = kinds[-1]
            if parent == _CHILDREN and isinstance(part, int):
                kind = _child_model(self._value(path[: n + 1]))
            elif parent in _ELEMENTS:
                kind = _ELEMENTS[parent]
            elif parent is _ItemBase:
                kind = {"bands": _BANDS, "levels": _FREE}.get(str(part))
            else:
                kind = (
                    _CONTAINERS.get(parent, {}).get(part) if not isinstance(parent, str) else None
                )
            kinds.append(kind)
        return kinds

    def line(self, path: DataPath) -> int | None:
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None

    def locate(self, path: DataPath) -> tuple[DataPath, DataPath, Any, str]:
        """(object path, path inside the object, object kind, label) for a data path."""
        kinds = self._kinds(path)
        cut = max(n for n, kind in enumerate(kinds) if not isinstance(kind, str) and kind)
        obj_path, rel = path[:cut], path[cut:]
        label = ""
        for n in range(cut, -1, -1):
            kind, value = kinds[n], self._value(path[:n])
            if kind in (VariantItem, VariantNode):
                code = str(path[n - 1])
                label = f"{code} {self.names[code]}" if code in self.names else code
                break
            labelled = kind in (Node, Grade, _ItemBase) or kind in ITEM_MODELS.values()
            if labelled and isinstance(value, Mapping):
                parts = (value.get("code"), value.get("name"))
                label = " ".join(x for x in parts if isinstance(x, str))
                break
        return obj_path, rel, kinds[cut], label

    def _resolve(self, loc: Sequence[str | int]) -> tuple[DataPath, bool]:
        """A pydantic error location as a data path (union tags dropped); is it about a key?"""
        path: list[str | int] = []
        about_key = False
        for part in loc:
            if part == "[key]":
                about_key = True
                continue
            # Pydantic puts the union tag (node, count, …) right after a child's index.
            after_child = len(path) >= 2 and path[-2] in ("tree", "children")
            if part in CHILD_TAGS and after_child and isinstance(path[-1], int):
                continue
            path.append(part)
        return tuple(path), about_key

    def _problem(self, path: DataPath, message: str) -> SchemeProblem:
        obj_path, _, _, label = self.locate(path)
        return SchemeProblem(self.filename, self.line(path), path_text(obj_path), message, label)

    def finding_problem(self, finding: Finding) -> SchemeProblem:
        message = finding.message
        if finding.related is not None:
            first = self.line(finding.related)
            message += f" (first at line {first})" if first else ""
        return self._problem(finding.path, message)

    def pydantic_problem(self, error: Mapping[str, Any]) -> SchemeProblem | None:
        path, about_key = self._resolve(error["loc"])
        kind_of = error["type"]
        value = error.get("input")
        if kind_of == "too_short" and isinstance(value, list) and value:
            return None  # the elements failed; their own errors say why
        obj_path, rel, kind, _ = self.locate(path)
        # An error on a whole entry (e.g. a list item that is not a mapping) has no field name.
        field = path_text(rel)
        message = _message(kind_of, error, field, kind, self._value(obj_path), about_key).strip()
        if kind_of == "union_tag_invalid":
            path = (*path, "rule")
        return self._problem(path, message)


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def _message(
    kind_of: str, error: Mapping[str, Any], field: str, kind: Any, obj: Any, about_key: bool
) -> str:
    ctx = error.get("ctx") or {}
    value = error.get("input")
    last = field.rsplit(".", 1)[-1]
    if about_key:
        return f"key {_show(value)} in {field}: {error['msg'].removeprefix('Value error, ')}"
    match kind_of:
        case "extra_forbidden":
            allowed = (
                _ITEM_FIELDS if kind is _ItemBase else sorted(getattr(kind, "model_fields", {}))
            )
            text = f"unknown key '{last}'"
            near = suggest_key(last, allowed)
            owners = [r for r, m in ITEM_MODELS.items() if last in m.model_fields]
            if near and near != last:
                text += f" (did you mean '{near}'?)"
            elif owners and kind in ITEM_MODELS.values():
                text += f" (only for rule {', '.join(owners)})"
            elif kind is Node and owners:
                text += " (a group has no item keys: add rule: … to make it an item)"
            return text
        case "missing":
            if kind is Node and field == "children":
                return "children is required for a group (an item needs rule: count | quantity | rating | metric | veto)"
            if kind in ITEM_MODELS.values() and isinstance(obj, Mapping):
                return f"{field} is required for rule {obj.get('rule')}"
            return f"{field} is required"
        case "union_tag_invalid":
            tag = ctx.get("tag")
            got = "nothing" if tag == "None" else f"'{tag}'"
            return f"rule must be one of count, quantity, rating, metric, veto (got {got})"
        case "literal_error" | "enum":
            return f"{field} must be one of {ctx.get('expected')} (got {_show(value)})"
        case "greater_than_equal":
            return f"{field} must be ≥ {ctx.get('ge')}"
        case "greater_than":
            return f"{field} must be > {ctx.get('gt')}"
        case "less_than_equal":
            return f"{field} must be ≤ {ctx.get('le')}"
        case "less_than":
            return f"{field} must be < {ctx.get('lt')}"
        case "string_pattern_mismatch":
            if kind is SchemeSpec and last == "code":
                return f"code {_show(value)} must be lowercase letters, digits, '-' and '_'"
            help_text = _PATTERN_HELP.get(last, f"must match {ctx.get('pattern')}")
            return f"{field} {_show(value)} {help_text}"
        case "string_too_short" | "too_short":
            return f"{field} must not be empty"
        case "string_too_long":
            return f"{field} is longer than {ctx.get('max_length')} characters"
        case "string_type":
            return f"{field} must be text (got {_show(value)})"
        case "decimal_parsing" | "decimal_type":
            return f"{field} must be a number (got {_show(value)})"
        case "finite_number":
            return f"{field} must be a finite number"
        case "int_type" | "int_parsing" | "int_from_float":
            return f"{field} must be a whole number (got {_show(value)})"
        case "bool_type" | "bool_parsing":
            return f"{field} must be true or false (got {_show(value)})"
        case "list_type" | "tuple_type":
            return f"{field} must be a list (got {_show(value)})"
        case "dict_type" | "model_type" | "model_attributes_type":
            return f"{field} must be a mapping of key: value (got {_show(value)})"
        case "value_error":
            return f"{field}: {error['msg'].removeprefix('Value error, ')}"
    return f"{field}: {error['msg']}"
