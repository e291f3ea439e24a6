"""Hostile scheme files: huge numbers, deep nesting, control characters and odd names are
refused by `scheme check` and by the upload with a message and a line, never a 500."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.models import Scheme
from kaoping.schemes.spec import SchemeError

from .test_scheme_views import SCHEME, upload

pytestmark = pytest.mark.django_db


def text(points="5", name="开会", code="test-village"):
    return SCHEME.format(code=code, version=1).replace(
        "{code: A1, name: 开会, rule: count, points: 5, cap: 15}",
        f'{{code: A1, name: "{name}", rule: count, points: {points}, cap: 15}}',
    )


def problems(source: str) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(source, filename="t.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_template_itself_loads():
    assert load_scheme_text(text(), filename="t.yaml").code == "test-village"


@pytest.mark.parametrize("points", ["1e39", "9e999999", "-1e10", "1" + "0" * 5000, "1000000001"])
def test_numbers_beyond_what_the_columns_hold_are_refused_quickly(points):
    started = time.monotonic()
    found = problems(text(points=points))
    assert time.monotonic() - started < 2
    assert any("t.yaml 第" in p and "points" in p for p in found), found


def test_a_version_number_beyond_the_column_is_refused():
    found = problems(text().replace("version: 1", "version: 100000000000000000000"))
    assert any("version" in p for p in found), found


def test_a_file_nested_fifty_thousand_deep_is_refused_with_its_line():
    deep = text() + "extra: " + "[" * 50_000 + "]" * 50_000 + "\n"
    found = problems(deep)
    assert len(found) == 1 and "t.yaml 第" in found[0] and "64" in found[0], found


def deep_tree(levels: int) -> str:
    lines = ["code: deep", "version: 1", "name: 深", "subject_kind: village", "cadence: month"]
    lines.append("tree:")
    indent = ""
    for level in range(levels):
        lines += [f"{indent}  - code: G{level}", f"{indent}    name: 组{level}"]
        lines.append(f"{indent}    children:")
        indent += "    "
    lines.append(f"{indent}  - {{code: X, name: 项, rule: count, points: 1}}")
    return "\n".join(lines) + "\n"


def test_a_tree_300_levels_deep_is_refused():
    found = problems(deep_tree(300))
    assert len(found) == 1 and "t.yaml 第" in found[0] and "64" in found[0], found


def test_a_tree_deeper_than_twelve_levels_is_refused_and_twelve_load():
    found = problems(deep_tree(20))
    assert len(found) == 1 and "t.yaml 第" in found[0] and "12" in found[0], found
    assert load_scheme_text(deep_tree(12), filename="t.yaml").code == "deep"


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("开\\0会", "NUL"),
        ("开\\x07会", "U+0007"),
        ("开\\n会", "U+000A"),
        ("开\\u202e会", "U+202E"),
        ("开\\u200b会", "U+200B"),
    ],
)
def test_control_and_invisible_characters_in_names_are_refused(name, what):
    found = problems(text(name=name))
    assert any(what in p and "name" in p for p in found), found


def test_a_nul_in_any_text_is_refused():
    found = problems(text() + 'notes_for_nobody: "a\\0b"\n')
    assert any("NUL" in p for p in found), found


def test_scheme_check_command_refuses_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(text(points="1e39"), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        call_command("scheme", "check", str(path))
    assert exited.value.code == 1
    assert "bad.yaml 第" in capsys.readouterr().err


@pytest.mark.parametrize(
    "source",
    [
        text(points="1e39"),
        text(name="开\\0会"),
        text().replace("开会", "开\x00会"),  # a raw NUL byte in the file
        text() + "extra: " + "[" * 50_000 + "]" * 50_000 + "\n",
    ],
)
def test_upload_of_a_hostile_file_shows_problems_and_stores_nothing(county, client_for, source):
    response = client_for(county, "alice").post(reverse("schemes:list"), {"file": upload(source)})
    assert response.status_code == 200
    assert any(p.startswith("t.yaml") for p in response.context["problems"])
    assert not Scheme.objects.exists()
