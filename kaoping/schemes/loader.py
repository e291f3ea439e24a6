"""Scheme files: YAML text → `SchemeSpec`, with every problem reported at its file line.

PyYAML's own constructor loses line numbers and turns `0.1` into a binary float, so the file is
only *composed* (parsed into nodes that carry marks) and converted here: numbers become Decimal
(ints stay int), duplicate keys are errors rather than silently overwritten, and the line of
every key and list element is recorded by its data path. Pydantic errors and `check_scheme`
findings both come back as data paths, which are looked up in that table.
"""

import os
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from kaoping.core.limits import SCHEME_TREE_DEPTH, SCHEME_YAML_DEPTH, text_problem
from kaoping.schemes.checks import Finding, check_scheme, path_text, suggest_key
from kaoping.schemes.messages import (
    LineIndex,
    field_text,
    place_of,
    pydantic_message,
    show,
    where_text,
    yaml_problem,
)
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
    Overlay,
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
    "load_yaml_model",
]

DataPath = tuple[str | int, ...]  # keys and list indices from the top of the file
M = TypeVar("M", bound=BaseModel)

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
        message = _("the file cannot be read as UTF-8 text (%(detail)s)") % {"detail": exc}
        raise SchemeError([SchemeProblem(filename, None, "", message)]) from exc
    return load_scheme_text(text, filename=filename)


def load_scheme_text(
    text: str,
    filename: str = "<string>",
    *,
    checks: Callable[[SchemeSpec], Iterable[tuple[DataPath, str]]] | None = None,
) -> SchemeSpec:
    """Parse and validate scheme YAML; raise SchemeError listing every problem. `checks` looks
    at the valid scheme against the database (the schemes it reads, `schemes.sources`) and
    returns (data path, message) pairs, reported at their lines like the file's own problems."""
    data, lines = _compose(text, filename)
    spec = load_scheme_data(data, filename=filename, lines=lines)
    if checks is not None:
        locator = _Locator(filename, data, lines)
        found = [locator.check_problem(path, message) for path, message in checks(spec)]
        if found:
            raise SchemeError(_sorted(found))
    return spec


def load_yaml_model(
    text: str,
    model: type[M],
    filename: str = "<string>",
    *,
    checks: Callable[[M], Iterable[tuple[DataPath, str]]] | None = None,
) -> M:
    """Parse YAML other than a scheme (an election round's configuration…) into `model`, with
    the same line-numbered problems as a scheme file; raise SchemeError listing every problem.

    Dates written plainly (`due: 2026-08-31`) stay text for pydantic to read into `date`.
    `checks` looks at the valid model against the database (a department that does not exist…)
    and returns (data path, message) pairs, which are reported at their lines the same way."""
    data, lines = _compose(text, filename)
    if not isinstance(data, Mapping):
        message = _("the file must be a mapping of key: value")
        raise SchemeError([SchemeProblem(filename, 1, "", message)])
    locator = _Locator(filename, data, lines, root=model)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        problems = [p for e in exc.errors(include_url=False) if (p := locator.pydantic_problem(e))]
        raise SchemeError(_sorted(problems)) from None
    if checks is not None:
        found = [locator.check_problem(path, message) for path, message in checks(spec)]
        if found:
            raise SchemeError(_sorted(found))
    return spec


def _compose(text: str, filename: str) -> tuple[Any, dict[DataPath, int]]:
    """YAML text → (plain data, the line of every data path); SchemeError on any problem."""
    try:
        root = yaml.compose(text, Loader=_NestingLimitedLoader)
    except yaml.MarkedYAMLError as exc:
        line, message = yaml_problem(exc, text)
        message = _("YAML format: %(problem)s") % {"problem": message}
        raise SchemeError([SchemeProblem(filename, line, "", message)]) from exc
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (NUL, other control characters): name its line.
        line_start = text.rfind("\n", 0, exc.position) + 1
        message = _("contains the control character U+%(code)04X (at character %(n)d)") % {
            "code": exc.character,
            "n": exc.position - line_start + 1,
        }
        line = text.count("\n", 0, exc.position) + 1
        raise SchemeError([SchemeProblem(filename, line, "", message)]) from exc
    except yaml.YAMLError as exc:
        # Unmarked errors are about the stream itself (e.g. a character YAML does not allow).
        message = _("the file cannot be read as YAML text (%(detail)s)") % {"detail": exc}
        raise SchemeError([SchemeProblem(filename, None, "", message)]) from exc
    if root is None:
        raise SchemeError([SchemeProblem(filename, 1, "", _("the file is empty"))])
    converter = _Converter(filename, text)
    data = converter.convert(root, ())
    if converter.found:
        raise SchemeError(converter.problems_in(data))
    return data, converter.lines


def load_scheme_data(
    data: Any, filename: str = "<data>", *, lines: Mapping[DataPath, int] | None = None
) -> SchemeSpec:
    """Validate already-parsed data (e.g. a stored JSON copy); `lines` maps data paths to lines."""
    locator = _Locator(filename, data, lines or {})
    if not isinstance(data, Mapping):
        raise SchemeError(
            [SchemeProblem(filename, 1, "", _("a scheme file must be a mapping of key: value"))]
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


class _NestingLimitedLoader(yaml.SafeLoader):
    """PyYAML composes nodes recursively: a file nested 50,000 deep overflows the stack. No
    real scheme nests deeper than a few levels; refuse past SCHEME_YAML_DEPTH at the line."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= SCHEME_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                _("nested more than %(n)d levels deep") % {"n": SCHEME_YAML_DEPTH},
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _unsupported_tag(tag: str) -> str:
    return _("the YAML tag %(tag)s is not supported: write plain values") % {"tag": tag}


class _Converter:
    """YAML nodes → plain data (Decimal numbers), recording the line of every data path."""

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.lines: dict[DataPath, int] = {(): 1}
        self.found: list[tuple[int, DataPath, str]] = []
        self._constructor = SafeConstructor()
        self._count = 0
        self._index = LineIndex(text)

    def line(self, node: YamlNode) -> int:
        return self._index.line(node.start_mark.index)

    def problem(self, node: YamlNode, path: DataPath, message: str) -> None:
        self.found.append((self.line(node), path, message))

    def problems_in(self, data: Any) -> list[SchemeProblem]:
        """The problems found, each placed by the codes and names of `data`."""
        return [
            SchemeProblem(
                self.filename,
                line,
                path_text(path),
                message,
                # The key stays in the place: these messages do not name it themselves.
                where=where_text(data, path),
            )
            for line, path, message in self.found
        ]

    def convert(self, node: YamlNode, path: DataPath) -> Any:
        self._count += 1
        if self._count > _MAX_VALUES:
            if self._count == _MAX_VALUES + 1:
                message = _("more than %(n)d values (aliases repeated without end?)")
                self.problem(node, path, message % {"n": _MAX_VALUES})
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                self.problem(node, path, _unsupported_tag(node.tag))
            if path and path[-1] == "children" and path.count("children") > SCHEME_TREE_DEPTH:
                # Checks and the close walk the tree recursively; 300 levels would overflow.
                message = _("the tree is nested more than %(n)d levels deep")
                self.problem(node, path, message % {"n": SCHEME_TREE_DEPTH})
                return []
            out = []
            for i, element in enumerate(node.value):
                self.lines[(*path, i)] = self.line(element)
                out.append(self.convert(element, (*path, i)))
            return out
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            self.problem(node, path, _unsupported_tag(node.tag))
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                message = _("merge keys (<<) are not supported: write the keys out")
                self.problem(key_node, path, message)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, _("a key must be plain text"))
                continue
            # Keys stay text as written: variant labels such as `1` or `NO` are labels, not
            # numbers or booleans.
            key = key_node.value
            line = self.line(key_node)
            if problem := text_problem(key, multiline=False):
                self.problem(key_node, path, _("a key %(problem)s") % {"problem": problem})
                continue
            if key in out:
                first = self.lines.get((*path, key))
                message = _("the key “%(key)s” is written twice (first on line %(first)s)")
                self.problem(key_node, path, message % {"key": key, "first": first})
                continue
            self.lines[(*path, key)] = line
            out[key] = self.convert(value_node, (*path, key))
        return out

    def _scalar(self, node: ScalarNode, path: DataPath) -> Any:
        tag = node.tag
        if tag == _TAG + "str" or tag == _TAG + "timestamp":
            # A quoted "\0" is a NUL; it would be stored on SQLite and fail on PostgreSQL.
            if problem := text_problem(node.value):
                self.problem(node, path, _("the text %(problem)s") % {"problem": problem})
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return self._constructor.construct_yaml_bool(node)
        if tag == _TAG + "int":
            try:
                return self._constructor.construct_yaml_int(node)
            except ValueError:  # Python refuses to parse an integer of over 4,300 digits
                self.problem(node, path, _("the number has too many digits"))
                return None
        if tag == _TAG + "float":
            text = node.value.replace("_", "")
            if _PLAIN_DECIMAL.match(text):
                try:
                    return Decimal(text)
                except InvalidOperation:
                    pass
            if text.lower().lstrip("+-") in (".inf", ".nan"):
                self.problem(node, path, _("must be an ordinary finite number"))
                return None
            # YAML 1.1 oddities such as 1:30 (sexagesimal); exact enough through str().
            return Decimal(str(self._constructor.construct_yaml_float(node)))
        self.problem(node, path, _unsupported_tag(tag))
        return node.value


# -- mapping errors back to lines ---------------------------------------------------------------

# What a data path points at: a model class (an object of the file) or a container marker.
_CHILDREN, _BANDS, _GRADES, _ROLLUPS, _PARTS = "children", "bands", "grades", "rollups", "parts"
_VARIANTS, _VARIANT_ITEMS, _VARIANT_NODES, _FREE = "variants", "v-items", "v-nodes", "free"
_OVERLAYS = "overlays"
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
        "metrics": _FREE,
        "overlays": _OVERLAYS,
    },
    Overlay: {
        "add": _CHILDREN,
        "items": _VARIANT_ITEMS,
        "nodes": _VARIANT_NODES,
        "exclude": _FREE,
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
    _OVERLAYS: Overlay,
}


def _child_model(value: Any) -> Any:
    if isinstance(value, Mapping) and "rule" in value:
        return ITEM_MODELS.get(str(value["rule"]), _ItemBase)
    return Node


class _Locator:
    """Turns data paths into (line, object path, label) for problem messages."""

    def __init__(
        self,
        filename: str,
        data: Any,
        lines: Mapping[DataPath, int],
        root: type[BaseModel] = SchemeSpec,
    ) -> None:
        self.filename = filename
        self.data = data
        self.lines = lines
        # The model of the whole file: a scheme, or another model read by load_yaml_model.
        self.root = root
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
        if self.root is not SchemeSpec:
            # Other files have no tree: each object's model comes from the annotations.
            return [self._model_at(path[:n]) for n in range(len(path) + 1)]
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
            labelled = labelled or (self.root is not SchemeSpec and kind is not None)
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
        obj_path, _rel, _kind, label = self.locate(path)
        return SchemeProblem(
            self.filename,
            self.line(path),
            path_text(obj_path),
            message,
            label,
            where=where_text(self.data, place_of(self.data, path), self.names),
        )

    def check_problem(self, path: DataPath, message: str) -> SchemeProblem:
        """A problem a caller's check found at `path` (see load_yaml_model)."""
        return self._problem(path, message)

    def finding_problem(self, finding: Finding) -> SchemeProblem:
        message = finding.message
        if finding.related is not None:
            first = self.line(finding.related)
            if first:
                message += _(" (first on line %(line)d)") % {"line": first}
        return self._problem(finding.path, message)

    def _model_at(self, path: DataPath) -> type[BaseModel] | None:
        """The pydantic model of the object at `path`, read from the annotations."""
        annotation: Any = self.root
        for n, part in enumerate(path):
            model = _model_of(annotation, self._value(path[:n]))
            if model is not None and isinstance(part, str):
                field = model.model_fields.get(part)
                if field is None:
                    return None
                annotation = field.annotation
            else:
                annotation = _element_of(annotation)
                if annotation is None:
                    return None
        return _model_of(annotation, self._value(path))

    def pydantic_problem(self, error: Mapping[str, Any]) -> SchemeProblem | None:
        path, about_key = self._resolve(error["loc"])
        kind_of = error["type"]
        value = error.get("input")
        if kind_of == "too_short" and isinstance(value, list) and value:
            return None  # the elements failed; their own errors say why
        if not path and kind_of == "value_error" and self.root is not SchemeSpec:
            return self._whole_file_problem(error)
        obj_path, rel, kind, _label = self.locate(path)
        place = place_of(self.data, path)
        if len(place) > len(obj_path) and (model := self._model_at(place)) is not None:
            # Inside a section the locator does not model (consequences, ranking lists…): the
            # object's own model says which keys it allows.
            obj_path, rel, kind = place, path[len(place) :], model
        # An error on a whole entry (e.g. a list item that is not a mapping) has no field name.
        field = field_text(rel)
        message = _message(
            kind_of, error, field, kind, self._value(obj_path), about_key, self.root
        ).strip()
        if kind_of == "union_tag_invalid":
            path = (*path, "rule")
        return self._problem(path, message)

    def _whole_file_problem(self, error: Mapping[str, Any]) -> SchemeProblem:
        """A check of the whole file (a model validator) has no place of its own. Its message
        starts with the section it is about (`stages: …`); the line is that of the entry or key
        of the section the message names first (the later of two entries with the same code),
        else the section's, else line 1."""
        message = _message("value_error", error, "", None, self.data, False, self.root).strip()
        path: DataPath = ()
        section = message.split(":", 1)[0].split("：", 1)[0].strip()
        if section in self.data:
            path = (section,)
            value = self.data[section]
            keys: list[tuple[str, DataPath]] = []
            if isinstance(value, Mapping):
                keys = [(str(key), (section, key)) for key in value]
            elif isinstance(value, list):
                keys = [
                    (element["code"], (section, i))
                    for i, element in enumerate(value)
                    if isinstance(element, Mapping) and isinstance(element.get("code"), str)
                ]
            # (where the message names it, -its order): the first named, the later entry.
            found = [
                (hit.start(), -n, key_path)
                for n, (key, key_path) in enumerate(keys)
                if (hit := re.search(rf"(?<![\w.-]){re.escape(key)}(?![\w.-])", message))
            ]
            if found:
                path = min(found)[2]
        return SchemeProblem(self.filename, self.line(path) or 1, "", message)


def _message(
    kind_of: str,
    error: Mapping[str, Any],
    field: str,
    kind: Any,
    obj: Any,
    about_key: bool,
    root: Any = SchemeSpec,
) -> str:
    last = field.rsplit(" › ", 1)[-1].split(" ", 1)[0]
    if about_key:
        # A key of a mapping the county names (metrics, variants, levels…) is malformed: say
        # which mapping and what its keys may be.
        container = field.rsplit(" › ", 1)[0] if " › " in field else field
        help_text = _pattern_help(_KEY_KINDS.get(container.rsplit(" › ", 1)[-1], "code"))
        if kind_of == "string_pattern_mismatch" and help_text:
            reason = help_text
        else:
            reason = pydantic_message(kind_of, error, "", "").strip("：: ")
        return _("the key %(key)s in %(field)s: %(reason)s") % {
            "key": show(error.get("input")),
            "field": container,
            "reason": reason,
        }
    is_item = kind is _ItemBase or kind in ITEM_MODELS.values()
    allowed = _ITEM_FIELDS if kind is _ItemBase else sorted(getattr(kind, "model_fields", {}))
    owners = [r for r, m in ITEM_MODELS.items() if last in m.model_fields]
    rule = obj.get("rule") if kind in ITEM_MODELS.values() and isinstance(obj, Mapping) else None
    return pydantic_message(
        kind_of,
        error,
        field,
        last,
        allowed=allowed,
        suggestion=suggest_key(last, allowed) if kind_of == "extra_forbidden" else None,
        owners=owners,
        is_item=kind in ITEM_MODELS.values(),
        is_group=kind is Node,
        item_rule=str(rule) if rule is not None and is_item else None,
        scheme_code=kind is SchemeSpec and last == "code",
        pattern_help=(
            _("a code may use only lowercase letters, digits, “-” and “_”")
            if kind is root and root is not SchemeSpec and last == "code"
            else _pattern_help(last)
        ),
    )


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold: Annotated and Optional removed, unions spread."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg) if t is not type(None)]
    return [annotation]


def _model_of(annotation: Any, value: Any) -> type[BaseModel] | None:
    models = [t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    if Node in models:  # a child of the tree: a group, or an item by its rule
        model = _child_model(value)
        return None if model is _ItemBase else model
    return models[0] if models else None


def _element_of(annotation: Any) -> Any:
    """The type of the elements of a list, tuple or mapping annotation."""
    for candidate in _unwrap(annotation):
        origin, args = get_origin(candidate), get_args(candidate)
        if origin in (tuple, list) and args:
            return args[0]
        if origin is dict and len(args) == 2:
            return args[1]
    return None


# What the keys of a named mapping are, for the help on a malformed one.
_KEY_KINDS = {"metrics": "metric", "items": "code", "nodes": "code", "by_grade": "grade"}


def _pattern_help(key: str) -> str | None:
    match key:
        case "code" | "grade":
            return _("a code may use only letters, digits, “_”, “.” and “-”")
        case "metric":
            return _(
                "a metric name is lowercase English letters, digits and “_”, like visit_coverage"
            )
        case "owner":
            return _("an owner has no spaces, like dept:political_legal")
        case "region":
            return _("write a township's 9-digit or a village's 12-digit division code")
    return None
