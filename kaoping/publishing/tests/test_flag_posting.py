"""红黄旗 as shipped: its flags are lists, posted on the public page and on the posters, and its
graded bonus pool pays 红旗 two shares and 达标 one."""

import subprocess
from datetime import date

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.outcomes.models import BonusPayout, BonusPool
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.periods.tests.close_harness import build_world, record, shipped_text
from kaoping.testing import require_tool

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 10)


def rate(world, subject, item, label):
    record(world, subject, item, label=label, on=MARCH)


@pytest.fixture
def flags(county):
    """March 2026 closed and posted: 东岭 93 (红旗), 南山 80 (达标), 西溪 63.7 (黄旗)."""
    world = build_world(shipped_text("hong-huang-qi.yaml"), "hong-huang-qi.yaml", county)
    red, middling, yellow = world.scored[:3]
    for item, label in (("ZD01.1", "好"), ("ZL02.1", "好"), ("MS02.1", "满意")):
        rate(world, red, item, label)  # 50 + 20 + 10 + 10 = 90
    record(world, red, "JF01", on=MARCH)  # + 3 = 93
    rate(world, middling, "ZD01.1", "好")
    rate(world, middling, "ZL02.1", "好")  # 80
    for _ in range(3):
        record(world, yellow, "ZD02.1", on=MARCH)  # 50 − 12 = 38
    period = period_open(scheme=world.scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period_post(period=period, acting_user=system_actor())
    period.refresh_from_db()
    return period, red, middling, yellow


def pdf(response, tmp_path) -> tuple[str, int]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "poster.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))[6:])
    return text, pages


def test_public_page_lists_the_red_and_the_yellow_flags(flags, client):
    period, red, middling, yellow = flags
    response = client.get(reverse("portal:posting", args=[period.pk]))
    lists = {
        posted.name: [row.subject_id for row in posted.rows] for posted in response.context["lists"]
    }
    assert lists == {"红旗": [red.pk], "黄旗": [yellow.pk]}
    html = response.content.decode()
    assert 'id="list-hongqi"' in html and 'id="list-huangqi"' in html
    assert "达标" in html  # the grade between the flags, in the results


def test_posters_carry_the_flags_and_the_ranking(flags, client, tmp_path):
    require_tool("pdftotext", "poppler-utils")
    period, red, middling, yellow = flags
    url = reverse("portal:poster", args=[period.pk])
    for size in ("a4", "a3"):
        text, pages = pdf(client.get(url, {"size": size}), tmp_path)
        assert "红旗" in text and "黄旗" in text and "排名" in text, size
        for subject in (red, middling, yellow):
            assert subject.name in text, (size, subject.name)  # villages: names in full
        assert "93" in text and "80" in text
        assert pages == 1, size


def test_bonus_pool_pays_two_shares_to_a_red_flag_and_one_to_a_pass(flags):
    period, red, middling, yellow = flags
    pool = BonusPool.objects.get(period=period)
    assert pool.amount_fen == 60_000_00
    paid = dict(BonusPayout.objects.filter(pool=pool).values_list("subject_id", "amount_fen"))
    # 6 万元 over three shares: 红旗 two (4 万), 达标 one (2 万), 黄旗 nothing.
    assert paid == {red.pk: 40_000_00, middling.pk: 20_000_00}
    assert pool.kept_fen == 0


def test_a3_holds_a_county_of_flags_on_one_sheet_a4_flows(county, client, tmp_path):
    """Ninety villages, all under 75: the yellow list and the ranking hold ninety rows each.
    A4 runs to several pages; A3 sets its own columns and type to keep one sheet."""
    require_tool("pdftotext", "poppler-utils")
    from kaoping.core.pinyin import initials
    from kaoping.people.services import subjects_sync
    from kaoping.regions.models import Region

    for n in range(90):
        name = f"测试{n:02d}村"
        Region.objects.create(
            code=f"330304001{n + 100:03d}",
            name=name,
            level="village",
            kind="村",
            parent=county.region("330304001"),
            initials=initials(name),
        )
    world = build_world(shipped_text("hong-huang-qi.yaml"), "hong-huang-qi.yaml", county)
    subjects_sync(kind="village")
    period = period_open(scheme=world.scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period_post(period=period, acting_user=system_actor())
    url = reverse("portal:poster", args=[period.pk])
    a4, a4_pages = pdf(client.get(url), tmp_path)
    a3, a3_pages = pdf(client.get(url, {"size": "a3"}), tmp_path)
    assert a4_pages > 1
    assert a3_pages == 1
    for text in (a4, a3):
        assert "测试00村" in text and "测试89村" in text
