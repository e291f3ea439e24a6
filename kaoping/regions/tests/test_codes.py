import pytest
from django.utils import translation

from kaoping.regions.codes import official_code, parse_official_code


@pytest.mark.parametrize(
    ("raw", "level", "code", "parent"),
    [
        ("330000000000", "province", "33", None),
        ("330300000000", "city", "3303", "33"),
        ("330304000000", "county", "330304", "3303"),
        ("330304001000", "township", "330304001", "330304"),
        ("330304001201", "village", "330304001201", "330304001"),
        ("330304001201007", "grid", "330304001201007", "330304001201"),
    ],
)
def test_levels_and_parents(raw, level, code, parent):
    parsed = parse_official_code(raw)
    assert (parsed.level, parsed.code, parsed.parent_code) == (level, code, parent)
    assert official_code(parsed.code) == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("33030400100", "12 digits"),
        ("3303040010a0", "only digits"),
        ("000304001000", "province"),
        ("330304001000000", "grid number"),
        ("330304000000001", "extend a village"),
    ],
)
def test_bad_codes_say_why(raw, message):
    with translation.override("en"), pytest.raises(ValueError, match=message):
        parse_official_code(raw)
