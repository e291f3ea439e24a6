"""Pages show names where the data holds codes: subject kinds and cadences, metric names,
ranking groups (region codes), audit actions and their changes, Django admin sections, and the
error pages are Chinese."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.core.audit import audit_record
from kaoping.core.audit_labels import action_label, change_lines
from kaoping.periods.services import period_post
from kaoping.publishing.tests.fixtures import (
    Q2_POINTS,
    Q3_POINTS,
    QUARTER_SCHEME,
    score,
    village_scheme,
)
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db


def visible_text(html: str) -> str:
    """The page's text without tags, attributes, scripts and styles."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


METRIC_SCHEME = """\
code: metric-names
version: 1
name: 指标名称
subject_kind: village
cadence: half_year
tree:
  - code: A
    name: 走访
    children:
      - code: A1
        name: 网格走访覆盖率
        rule: metric
        metric: visit_coverage
        bands:
          - {min: 90, min_inclusive: true, points: 10}
      - code: A2
        name: 联户
        rule: metric
        metric: member_household_coverage
        bands:
          - {min: 90, min_inclusive: true, points: 10}
metrics:
  member_household_coverage: 党员联户覆盖率
"""


def test_scheme_list_and_page_show_kinds_cadences_and_metrics_by_name(county, client_for):
    scheme_load(
        text=METRIC_SCHEME,
        filename="m.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    client = client_for(county, "alice")
    listing = visible_text(client.get(reverse("schemes:list")).content.decode())
    assert "村社" in listing and "半年度" in listing
    assert not re.search(r"\b(village|half_year)\b", listing), listing
    page = visible_text(
        client.get(reverse("periods:scheme", args=["metric-names"])).content.decode()
    )
    assert "按“党员联户覆盖率”分档计分" in page  # the label the file gives
    assert "按“网格走访覆盖率”分档计分" in page  # no label: the item's own name
    assert "visit_coverage" not in page and "member_household_coverage" not in page


@pytest.fixture
def township_posting(county):
    text = QUARTER_SCHEME.replace("ranking:\n  lists:", "ranking:\n  within: township\n  lists:")
    scheme, villages = village_scheme(county, text)
    score(scheme, villages, "2026-Q2", Q2_POINTS)
    period = score(scheme, villages, "2026-Q3", Q3_POINTS)
    return period_post(period=period, acting_user=county.users["alice"]), villages


def test_ranking_groups_are_named_not_coded(county, client_for, township_posting):
    period, villages = township_posting
    client = client_for(county, "alice")
    subject = villages["东岭村"]
    pages = {
        "period": client.get(reverse("periods:detail", args=[period.pk])),
        "explain": client.get(reverse("periods:explain", args=[period.pk, subject.pk])),
        "posting": client.get(reverse("portal:posting", args=[period.pk])),
        "breakdown": client.get(reverse("portal:breakdown", args=[period.pk, subject.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = visible_text(response.content.decode())
        assert "东岭街道" in text, name
        assert not re.search(r"(?<!\d)\d{9}(?!\d)", text), (name, text)
    export = client.get(reverse("portal:export", args=[period.pk]))
    data = b"".join(export.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    groups = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert groups == {"东岭街道", "西溪镇"}, groups


def test_the_audit_log_names_actions_and_shows_changes_readably(county, client_for):
    audit_record(
        actor=county.users["alice"],
        action="store.redemption.requested",
        region_code="330304001001",
        object_repr="兑换 #1",
        after={"quantity": 2, "points": "30", "status": "requested"},
    )
    audit_record(
        actor=county.users["alice"],
        action="store.window.juggled",  # no label: the app and a readable fallback
        region_code="330304001001",
        object_repr="兑换期",
        before={"status": "open"},
        after={"status": "closed", "ids": list(range(30))},
    )
    html = client_for(county, "alice").get(reverse("console:audit")).content.decode()
    text = visible_text(html)
    assert "申请兑换" in text and "积分超市：其他操作" in text
    joined = re.sub(r"\s*：\s*", "：", text)
    assert "数量：2" in joined and "状态：进行中 → 已关闭" in joined and "状态：已申请" in joined
    assert "store.redemption.requested" not in text and "store.window.rotated" not in text
    assert "{'" not in text and "'status'" not in text
    assert "…" in text  # thirty ids are cut short


def test_every_audit_action_written_by_the_code_has_a_label():
    unknown = action_label("nobody.writes.this")
    assert unknown == "其他操作"
    for code in ("ledger.entry.approved", "periods.period.post", "publishing.objection.upheld"):
        assert action_label(code) != unknown and "." not in action_label(code)
    (line,) = change_lines({"status": "submitted"}, {"status": "upheld"})
    assert (line.label, line.after) == ("状态", "成立") and line.before
    assert change_lines(None, {"reversal": 3, "unheard_of_key": True})[1].after == "是"


def test_error_pages_are_chinese(county, client_for, client, settings):
    response = client_for(county, "carol").get("/no-such-page/")
    assert response.status_code == 404
    text = visible_text(response.content.decode())
    assert "找不到这个页面" in text and "回到首页" in text and "Not Found" not in text
    response = client_for(county, "carol").get(reverse("console:audit"))
    assert response.status_code == 403
    text = visible_text(response.content.decode())
    assert "没有权限" in text and "回到首页" in text and "Forbidden" not in text
    from django.template.loader import render_to_string

    text = visible_text(render_to_string("500.html"))
    assert "系统出错了" in text and "Server Error" not in text


def test_admin_sections_and_household_are_chinese(county, admin_client):
    text = visible_text(admin_client.get(reverse("admin:index")).content.decode())
    assert "人员与农户" in text and "区域" in text
    assert "农户" in text and "户数" not in text
    assert not re.search(r"\b(People|PEOPLE|Regions|Households)\b", text), text
