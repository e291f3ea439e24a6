"""The warning tags an entry's flags show in the review queue and in one's own entries."""

from types import SimpleNamespace

from django.template import engines
from django.utils import translation

from kaoping.ledger.templatetags.ledger_entries import FLAG_LABELS, entry_flags

TAGS = engines["django"].from_string("{% load ledger_entries %}{% entry_flags e %}")


def rendered(*flags: str) -> str:
    with translation.override("zh-hans"):
        return TAGS.render({"e": SimpleNamespace(flags=list(flags))})


def test_each_flag_is_a_tag_in_words_titled_check_before_approving():
    html = rendered("own_village", "burst")
    assert html.count('<span class="tag warn" title="审核前请核实">') == 2
    assert html.index("自评本村") < html.index("短时间内记录过多")


def test_every_flag_the_ledger_sets_has_words():
    assert set(FLAG_LABELS) == {
        "own_household",
        "relatives",
        "own_village",
        "self",
        "burst",
        "over_cap",
        "photo_reused",
    }
    with translation.override("zh-hans"):
        assert all(str(label) != code for code, label in FLAG_LABELS.items())


def test_an_unknown_flag_shows_its_code_escaped_and_none_shows_nothing():
    assert "&lt;b&gt;" in rendered("<b>")
    assert rendered() == ""
    assert entry_flags(SimpleNamespace(flags=[])) == ""
