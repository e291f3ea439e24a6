from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kaoping.core.privacy import (
    id_check_char,
    id_number_problem,
    mask_id_number,
    mask_name,
    mask_phone,
)


def test_known_id_number_is_valid():
    # The worked example of GB 11643-1999.
    assert id_check_char("11010519491231002") == "X"
    assert id_number_problem("11010519491231002X") is None


def test_id_number_problems_say_what_is_wrong():
    translation.activate("en")
    assert "18" in id_number_problem("1101051949123100")
    assert "check digit" in id_number_problem("110105194912310021")
    assert "birth date" in id_number_problem("110105194902310028")
    assert "17 digits" in id_number_problem("11010519491231A02X")
    translation.deactivate()
    assert "校验位" in id_number_problem("110105194912310021")


@given(
    st.from_regex(
        r"[1-6]\d{5}(19[5-9]\d|20[01]\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True
    )
)
def test_any_number_with_its_computed_check_char_is_valid(first17):
    assert id_number_problem(first17 + id_check_char(first17)) is None


def test_masks():
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("") == ""
