"""Fuzzing scheme files: generated dict trees shaped like docs/schemes.md with hostile values
(huge, NaN and infinite numbers, NUL and odd unicode, wrong types, missing keys, deep nesting)
and raw text mutations of a good file go through the loader and its checks, `scheme check` and
the upload. Never an unhandled exception; every refusal names a place (a line or a field)."""

import io
import math
from contextlib import redirect_stderr, redirect_stdout

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

from .test_scheme_views import scheme_text, upload

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

hostile_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**15, max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e39, -1e308, 0.0, -0.0]),
    st.sampled_from(["1e39", "9e999999", "-1e10", "1" + "0" * 500, ".nan", "0x1F", "1_000"]),
)
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        ["\x00", "a\x00b", "\u202e村", "\u200b", "行\n二", "", " ", "=1+1", "村" * 300]
    ),
)
scalar = st.one_of(hostile_numbers, hostile_text, st.booleans(), st.none())
anything = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def maybe(good, hostile=anything):
    """Mostly a plausible value, sometimes a hostile one."""
    return st.one_of(good, good, hostile)


RULES = ["count", "quantity", "rating", "metric", "veto", "nonsense"]
item = st.fixed_dictionaries(
    {
        "code": maybe(st.from_regex(r"[A-Z][0-9]{1,2}", fullmatch=True)),
        "name": maybe(hostile_text),
        "rule": maybe(st.sampled_from(RULES)),
    },
    optional={
        "points": maybe(hostile_numbers),
        "cap": maybe(hostile_numbers),
        "weight": maybe(hostile_numbers),
        "unit": hostile_text,
        "levels": maybe(st.dictionaries(hostile_text, hostile_numbers, max_size=3)),
        "evidence_required": maybe(st.booleans()),
    },
)


def nodes(depth: int):
    if depth == 0:
        return st.lists(maybe(item), min_size=1, max_size=3)
    group = st.fixed_dictionaries(
        {
            "code": maybe(st.from_regex(r"[A-Z]{1,2}", fullmatch=True)),
            "name": maybe(hostile_text),
            "children": maybe(nodes(depth - 1)),
        },
        optional={
            "max": maybe(hostile_numbers),
            "section": maybe(st.sampled_from(["bonus", "deduction", "score", "x"])),
        },
    )
    return st.lists(st.one_of(group, item), min_size=1, max_size=3)


scheme_dict = st.fixed_dictionaries(
    {},
    optional={
        "code": maybe(st.from_regex(r"[a-z][a-z0-9-]{2,12}", fullmatch=True)),
        "version": maybe(st.integers(min_value=1, max_value=5), hostile_numbers),
        "name": maybe(hostile_text),
        "subject_kind": maybe(st.sampled_from(["village", "household", "person", "team"])),
        "cadence": maybe(st.sampled_from(["month", "quarter", "year", "fortnight"])),
        "decimals": maybe(st.integers(0, 3), hostile_numbers),
        "base": maybe(hostile_numbers),
        "floor": maybe(hostile_numbers),
        "tree": maybe(nodes(3)),
        "extra": anything,  # an unknown key
    },
)


def as_yaml(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def mutations(base: str):
    """A good file with a few characters inserted, deleted or replaced."""
    edit = st.tuples(
        st.integers(0, len(base)),
        st.integers(0, 8),
        st.one_of(hostile_text, st.sampled_from(["[", "{", ":", "- ", "&a", "*a", "!!python"])),
    )

    def apply(edits):
        text = base
        for at, cut, insert in edits:
            at = min(at, len(text))
            text = text[:at] + insert + text[at + cut :]
        return text

    return st.lists(edit, min_size=1, max_size=4).map(apply)


def refusal_names_places(error: SchemeError) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.message.strip(), problem
        # A place: a file line, or a field of the file by its path or its codes and names.
        assert problem.line or problem.path or problem.where, str(problem)
        assert str(problem).startswith(problem.file)


def check_text(text: str) -> None:
    try:
        load_scheme_text(text, filename="t.yaml")
    except SchemeError as error:
        event("refused")
        refusal_names_places(error)
    else:
        event("loaded")


@FUZZ
@given(scheme_dict)
def test_generated_scheme_trees_load_or_are_refused_with_places(data):
    check_text(as_yaml(data))


@FUZZ
@given(mutations(scheme_text()))
def test_mutated_scheme_text_loads_or_is_refused_with_places(text):
    check_text(text)


@settings(FUZZ, max_examples=30)
@given(st.one_of(scheme_dict.map(as_yaml), mutations(scheme_text())))
def test_scheme_check_command_reports_and_exits_never_a_traceback(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "t.yaml"
    path.write_text(text, encoding="utf-8", errors="replace")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            call_command("scheme", "check", str(path), stdout=out, stderr=err)
        except SystemExit as exit:
            assert exit.code == 1
            assert str(path) in err.getvalue()
            return
    assert str(path) in out.getvalue()


@pytest.mark.django_db
@settings(FUZZ, max_examples=60)
@given(st.one_of(scheme_dict.map(as_yaml), mutations(scheme_text())))
def test_scheme_upload_service_stores_or_refuses_with_places(county, text):
    try:
        scheme_load(
            text=text, filename="t.yaml", region=county.region("330304"), acting_user=system_actor()
        )
    except SchemeError as error:
        refusal_names_places(error)
    except KaopingError as error:
        assert "t.yaml" in " ".join(error.messages), error.messages


@pytest.mark.django_db
@settings(FUZZ, max_examples=25)
@given(st.one_of(scheme_dict.map(as_yaml), mutations(scheme_text())))
def test_scheme_upload_page_never_answers_500(county, client_for, text):
    client = client_for(county, "alice")
    client.raise_request_exception = False
    response = client.post(
        reverse("schemes:list"), {"file": upload(text.encode("utf-8", "replace"))}
    )
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        problems = response.context["problems"] or []
        form = response.context["form"]
        assert problems or form.errors
        assert all("t.yaml" in p for p in problems), problems


@pytest.mark.parametrize("character", ["\x00", "\x1f", "\x7f"])
def test_a_character_yaml_refuses_is_reported_at_its_line(character):
    text = scheme_text().replace("name: 党建", f"name: 党{character}建")
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(text, filename="t.yaml")
    [problem] = caught.value.problems
    assert problem.line == 8, str(problem)
    assert f"U+{ord(character):04X}" in problem.message, problem.message
