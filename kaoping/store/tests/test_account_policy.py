"""The optional `account:` block of a scheme file."""

from pathlib import Path

import pytest
from django.conf import settings

from kaoping.schemes.loader import load_scheme_file, load_scheme_text
from kaoping.schemes.spec import SchemeError

from .fixture import SCHEME

SHIPPED = Path(settings.BASE_DIR) / "schemes"


def test_the_block_is_optional():
    assert load_scheme_text(SCHEME.replace("account:\n  spendable: true\n", "")).account is None


def test_a_full_block():
    text = SCHEME.replace(
        "spendable: true", 'spendable: true\n  clear_on: "12-31"\n  expire_months: 24'
    )
    policy = load_scheme_text(text).account
    assert (policy.spendable, policy.clear_on, policy.expire_months) == (True, "12-31", 24)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('clear_on: "02-29"', "02-29 不是每年都有的日期"),
        ('clear_on: "13-01"', "13-01 不是每年都有的日期"),
        ("clear_on: 1231", "积分账户 account：clear_on 必须是文字"),
        ("expire_months: 0", "积分账户 account：expire_months 不能小于 1"),
        ("spendible: true", "不认识的键 “spendible”"),
    ],
)
def test_mistakes_are_named_with_their_line(line, message):
    text = SCHEME.replace("spendable: true", f"spendable: true\n  {line}")
    with pytest.raises(SchemeError) as caught:
        load_scheme_text(text, filename="x.yaml")
    problem = str(caught.value)
    assert message in problem and "x.yaml 第 15 行" in problem


def test_shipped_schemes_keep_accounts():
    household = load_scheme_file(SHIPPED / "household-points.yaml").account
    assert (household.spendable, household.clear_on) == (True, "01-10")
    party = load_scheme_file(SHIPPED / "party-member-points.yaml").account
    assert party.spendable is False
    assert load_scheme_file(SHIPPED / "liubi-liuzheng.yaml").account is None
