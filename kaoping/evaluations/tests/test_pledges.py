"""二亮: members' public pledges, keeping them, and the member's public card."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from kaoping.accounts.scoping import Refused
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations import pledges
from kaoping.evaluations.member_selectors import member_card
from kaoping.evaluations.models import MemberPledge
from kaoping.evaluations.testing import evaluation_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(county):
    return evaluation_world(county)


def add(county, world, text, *, year=None, by="carol"):
    return pledges.pledge_add(
        member=world.member,
        year=year or timezone.localdate().year,
        text=text,
        acting_user=county.users[by],
    )


def test_a_pledge_is_recorded_and_kept_once(county, world):
    pledge = add(county, world, "  帮助 两户 销售茶叶 ")
    assert pledge.text == "帮助 两户 销售茶叶"  # spaces folded, as it is shown in public
    today = timezone.localdate()
    kept = pledges.pledge_keep(
        pledge=pledge, kept_on=today, note="已卖出 300 斤", acting_user=county.users["clara"]
    )
    assert (kept.kept_on, kept.kept_note) == (today, "已卖出 300 斤")
    with pytest.raises(KaopingError):
        pledges.pledge_keep(
            pledge=pledge, kept_on=today, note="", acting_user=county.users["carol"]
        )
    actions = list(AuditLog.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["evaluation.pledge.added", "evaluation.pledge.kept"]


def test_at_most_five_pledges_a_year(county, world):
    for n in range(pledges.PLEDGES_PER_YEAR):
        add(county, world, f"承诺{n}")
    with override("en"), pytest.raises(KaopingError) as caught:
        add(county, world, "第六条")
    assert "already has 5 pledges" in caught.value.messages[0]
    assert MemberPledge.objects.count() == 5
    add(county, world, "第六条", year=timezone.localdate().year + 1)  # next year's are its own


def test_a_twin_is_refused_within_a_year_but_not_across_years(county, world):
    year = timezone.localdate().year
    add(county, world, "修好村口路灯", year=year)
    with pytest.raises(KaopingError):
        add(county, world, "修好村口路灯", year=year)
    add(county, world, "修好村口路灯", year=year + 1)
    assert MemberPledge.objects.count() == 2


def test_what_a_pledge_may_say_and_when(county, world):
    year = timezone.localdate().year
    with override("en"):
        for text, year_given, field in (
            ("", year, "text"),
            ("多" * 201, year, "text"),
            ("承诺\x1b", year, "text"),
            ("承诺", year - 2, "year"),
            ("承诺", year + 2, "year"),
        ):
            with pytest.raises(KaopingError) as caught:
                add(county, world, text, year=year_given)
            assert field in caught.value.message_dict, (text, year_given)
        pledge = add(county, world, "承诺")
        for day in (timezone.localdate() + timedelta(days=1), date(year - 1, 12, 31)):
            with pytest.raises(KaopingError) as caught:
                pledges.pledge_keep(
                    pledge=pledge, kept_on=day, note="", acting_user=county.users["carol"]
                )
            assert "kept_on" in caught.value.message_dict
    pledge.refresh_from_db()
    assert pledge.kept_on is None


def test_another_village_and_a_villager_cannot_add_or_keep(county, world):
    pledge = add(county, world, "承诺")
    for persona in ("oscar", "erin", "grace"):
        with pytest.raises(Refused):
            add(county, world, "另一条", by=persona)
        with pytest.raises(Refused):
            pledges.pledge_keep(
                pledge=pledge,
                kept_on=timezone.localdate(),
                note="",
                acting_user=county.users[persona],
            )
    assert MemberPledge.objects.count() == 1
    assert MemberPledge.objects.get().kept_on is None


def test_the_card_masks_the_name_and_counts_the_kept(county, world):
    year = timezone.localdate().year
    first = add(county, world, "帮助两户销售茶叶")
    add(county, world, "每月走访联系户")
    add(county, world, "明年的承诺", year=year + 1)
    pledges.pledge_keep(
        pledge=first, kept_on=timezone.localdate(), note="", acting_user=county.users["carol"]
    )
    card = member_card(world.subject, year=year)
    assert (card.name, card.branch, card.village) == ("王*国", "东岭村党支部", "东岭村")
    assert [p.text for p in card.pledges] == ["帮助两户销售茶叶", "每月走访联系户"]
    assert card.kept == 1
    assert member_card(world.other_subject, year=year).pledges == []
