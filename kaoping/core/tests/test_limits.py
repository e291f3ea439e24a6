"""The shared input bounds (kaoping.core.limits) and the Content-Security-Policy."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from kaoping.core.limits import name_problem, text_problem
from kaoping.people.forms import PersonForm
from kaoping.publishing.forms import ObjectionForm
from kaoping.store.forms import GoodsForm


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("扫雪\n两次\t好", None),
        ("a\x00b", "NUL"),
        ("a\x1bb", "U+001B"),
        ("a\x7fb", "U+007F"),
        ("a\x85b", "U+0085"),
    ],
)
def test_text_refuses_control_characters_but_tabs_and_line_breaks(text, found):
    problem = text_problem(text)
    assert (problem is None) if found is None else (found in problem and "2" in problem)


@pytest.mark.parametrize(
    "name",
    ["张\n三", "张\u202e三", "张\u200b三", "张\u2066三", "张\ufeff三", "张\t三", "张\u00ad三"],
)
def test_names_refuse_line_breaks_invisible_and_direction_characters(name):
    assert name_problem(name)


@pytest.mark.parametrize("name", ["张三", "阿卜杜拉·买买提", "O'Neil Smith", "李 四"])
def test_ordinary_names_pass(name):
    assert name_problem(name) is None


def goods(**changes):
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "name": "毛巾",
        "unit": "条",
        "price": "5",
        "position": "0",
        **changes,
    }
    return GoodsForm(data)


def test_goods_form_bounds_position_and_refuses_bad_names():
    assert goods().is_valid(), goods().errors
    for position in ("100000000000000000000", "2147483648"):
        form = goods(position=position)
        assert not form.is_valid() and "position" in form.errors
    form = goods(name="毛\u202e巾")
    assert not form.is_valid() and "U+202E" in form.errors["name"][0]
    form = goods(description="好\x07用")
    assert not form.is_valid() and "U+0007" in form.errors["description"][0]


def test_person_and_objection_forms_refuse_hidden_characters():
    form = PersonForm({"name": "张\u200b三", "phone": "", "relation": ""})
    assert not form.is_valid() and "name" in form.errors
    form = ObjectionForm({"name": "李四", "contact": "138\n0000", "reason": "分数\n不对"})
    assert not form.is_valid() and list(form.errors) == ["contact"]
    form = ObjectionForm({"name": "李四", "contact": "13800000000", "reason": "分数\n不对"})
    assert form.is_valid(), form.errors


# ─── Content-Security-Policy ───


@pytest.mark.django_db
def test_console_pages_carry_a_policy_whose_nonce_their_inline_scripts_carry(county, client_for):
    from kaoping.ledger.tests.ledger_fixture import load_household_scheme
    from kaoping.people.models import Subject

    scheme = load_household_scheme(county)
    subject = Subject.objects.get(kind="household", household__number="3303040010010001")
    url = reverse("ledger:entry_new", args=[subject.pk, scheme.code])
    client = client_for(county, "carol")
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy.split(";")[1]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    page = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    inline = [attrs for attrs in scripts if "src=" not in attrs]
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert not re.search(r"\son[a-z]+=\"", page)  # no inline event handlers
    again = client.get(url)["Content-Security-Policy"]
    assert again != policy  # a fresh nonce per response


@pytest.mark.django_db
def test_templates_have_no_inline_event_handlers_or_nonce_less_scripts():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for template in root.glob("kaoping/*/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"\son(click|change|submit|input|load|keyup|keydown)=", text):
            offenders.append(f"{template}: inline handler")
        for attrs in re.findall(r"<script([^>]*)>", text):
            if "src=" not in attrs and "nonce=" not in attrs and "application/" not in attrs:
                offenders.append(f"{template}: <script{attrs}>")
    assert offenders == []


@pytest.mark.django_db
def test_json_and_files_get_no_policy(county, client_for):
    client = client_for(county, "carol")
    response = client.get("/api/openapi.json")
    assert "Content-Security-Policy" not in response
