"""The public pages: only posted and final periods, names masked, objections, posters, Excel."""

import io
import re
import subprocess
from datetime import date, timedelta

import pytest
from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.services import EntryDraft
from kaoping.people.models import Subject
from kaoping.periods.services import period_finalise
from kaoping.publishing.models import Objection
from kaoping.publishing.services import objection_decide, objection_file
from kaoping.testing import require_tool

from .fixtures import household_posting, posted_quarter

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(county):
    return posted_quarter(county)


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_open_and_closed_periods_are_not_public(county, client):
    posted = posted_quarter(county, post=False)  # Q3 closed, never posted
    assert client.get(reverse("portal:posting", args=[posted.period.pk])).status_code == 404
    assert client.get(reverse("portal:posting", args=[posted.previous.pk])).status_code == 404
    from kaoping.periods.services import period_open

    still_open = period_open(scheme=posted.scheme, label="2026-Q4", acting_user=system_actor())
    for name in ("posting", "objection", "poster", "export"):
        assert client.get(reverse(f"portal:{name}", args=[still_open.pk])).status_code == 404
        assert client.get(reverse(f"portal:{name}", args=[posted.period.pk])).status_code == 404
    subject = posted.villages["东岭村"]
    url = reverse("portal:breakdown", args=[posted.period.pk, subject.pk])
    assert client.get(url).status_code == 404
    posted.period.refresh_from_db()
    assert posted.period.status == "closed"


def test_posted_and_final_periods_are_public(posted, client, county):
    html = html_of(client.get(reverse("portal:posting", args=[posted.period.pk])))
    assert '<html lang="zh-CN">' in html
    assert "红榜" in html and "黑榜" in html and "进步榜" in html  # names from the scheme
    assert "西溪村" in html and "溪口村" in html
    assert "上升 3 位" in html  # 溪口村 climbed three places
    assert (
        reverse("portal:breakdown", args=[posted.period.pk, posted.villages["西溪村"].pk]) in html
    )
    assert posted.period.pk in [
        p.pk for p in client.get(reverse("portal:index")).context["page"].object_list
    ]
    later = posted.period.objection_deadline + timedelta(hours=1)
    period_finalise(period=posted.period, acting_user=county.users["alice"], now=later)
    html = html_of(client.get(reverse("portal:posting", args=[posted.period.pk])))
    assert "红榜" in html
    objection = client.get(reverse("portal:objection", args=[posted.period.pk]))
    assert "不再受理" in objection.content.decode() or "no longer" in objection.content.decode()


def test_region_filter_shows_one_township(posted, client):
    url = reverse("portal:posting", args=[posted.period.pk])
    html = html_of(client.get(url, {"region": "330304002"}))
    assert "西溪村" in html and "东岭村</a>" not in html
    html = html_of(client.get(url, {"region": "999"}))  # outside the county: the whole posting
    assert "东岭村" in html


def test_region_filter_drills_down_from_the_county(posted, client):
    url = reverse("portal:posting", args=[posted.period.pk])

    def options(response) -> list[str]:
        return [label for label, _region in response.context["regions"]]

    assert options(client.get(url)) == ["东岭街道", "西溪镇"]  # townships; their villages later
    township = options(client.get(url, {"region": "330304001"}))
    assert township[:3] == ["东岭街道", "　东岭村", "　南山社区"] and "　西溪村" not in township
    # A village keeps its township and its neighbours on offer, itself selected.
    response = client.get(url, {"region": "330304001002"})
    assert options(response) == township
    assert '<option value="330304001002" selected>' in response.content.decode()


def test_breakdown_by_index_without_entries(posted, client):
    subject = posted.villages["西溪村"]
    html = html_of(client.get(reverse("portal:breakdown", args=[posted.period.pk, subject.pk])))
    assert "堡垒指数" in html and "环境指数" in html
    assert re.search(r'id="index-HJ"><td>环境指数</td><td class="num">10<', html)
    assert "暗访" not in html  # entry notes (and evidence) never reach a public page
    assert f"?subject={subject.pk}" in html


def test_persons_names_are_masked_on_public_pages_and_exports(county, client):
    period = household_posting(county)
    names = list(
        Subject.objects.filter(kind="household").exclude(name="").values_list("name", flat=True)
    )
    assert "王建国" in names
    pages = [client.get(reverse("portal:posting", args=[period.pk])).content.decode()]
    for subject in Subject.objects.filter(kind="household"):
        pages.append(
            client.get(reverse("portal:breakdown", args=[period.pk, subject.pk])).content.decode()
        )
        pages.append(
            client.get(
                reverse("portal:objection", args=[period.pk]), {"subject": subject.pk}
            ).content.decode()
        )
    workbook = load_workbook(
        io.BytesIO(
            b"".join(client.get(reverse("portal:export", args=[period.pk])).streaming_content)
        )
    )
    cells = " ".join(
        str(c)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    )
    for name in names:
        for text in [*pages, cells]:
            assert name not in text
    assert "王*国" in pages[0] and "王*国" in cells


def test_objection_form_files_and_redirects(posted, client):
    subject = posted.villages["西溪村"]
    url = reverse("portal:objection", args=[posted.period.pk])
    html = html_of(client.get(url, {"subject": subject.pk}))
    assert "西溪村" in html
    response = client.post(
        url,
        {
            "subject": subject.pk,
            "name": "陈小明",
            "contact": "13800001234",
            "reason": "暗访扣分时我村已整改完毕，扣分有误。",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("portal:posting", args=[posted.period.pk])
    objection = Objection.objects.get()
    assert objection.subject == subject
    assert f"{objection.pk}" in response.content.decode()
    assert "13800001234" not in response.content.decode()
    assert client.get(url, {"subject": 999999}).status_code == 404


def test_sixth_objection_in_the_hour_is_refused_with_a_message(posted, client):
    url = reverse("portal:objection", args=[posted.period.pk])
    data = {"name": "陈小明", "contact": "13800001234", "reason": "扣分有误，请核实。"}
    for _ in range(5):
        assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.status_code == 429
    assert "一小时" in response.content.decode() or "an hour" in response.content.decode()
    assert Objection.objects.count() == 5


def test_upheld_objection_shows_the_corrected_list_and_the_decision(posted, client, county):
    url = reverse("portal:posting", args=[posted.period.pk])
    before = client.get(url).context
    black = next(lst for lst in before["lists"] if lst.code == "black")
    assert [r.name for r in black.rows] == ["西溪村"]
    objection = objection_file(
        period=posted.period,
        subject=posted.villages["西溪村"],
        name="陈小明",
        contact="13800001234",
        reason="组织生活记录漏录。",
        address="1.2.3.4",
    )
    objection_decide(
        objection=objection,
        decision="uphold",
        text="经核实，西溪村组织生活漏录 11 次，予以补记。",
        acting_user=county.users["alice"],
        corrections=[
            EntryDraft(
                subject=posted.villages["西溪村"],
                item_code="BL1",
                occurred_on=date(2026, 8, 20),
                quantity="11",
            )
        ],
    )
    response = client.get(url)
    html = html_of(response)
    lists = {lst.code: [r.name for r in lst.rows] for lst in response.context["lists"]}
    assert lists["black"] == ["北山村"] and "西溪村" in lists["red"]
    assert "经核实，西溪村组织生活漏录 11 次，予以补记。" in html
    first = response.context["page"][0]
    assert (first.public_name, first.points) == ("西溪村", 32)
    breakdown = html_of(
        client.get(
            reverse("portal:breakdown", args=[posted.period.pk, posted.villages["西溪村"].pk])
        )
    )
    assert "予以补记" in breakdown and "陈小明" not in breakdown


def test_dismissed_objection_is_not_shown_as_a_correction(posted, client, county):
    objection = objection_file(
        period=posted.period,
        subject=posted.villages["西溪村"],
        name="陈小明",
        contact="13800001234",
        reason="扣分有误，请核实。",
        address="1.2.3.4",
    )
    objection_decide(
        objection=objection,
        decision="dismiss",
        text="扣分有据，不予采纳。",
        acting_user=county.users["alice"],
    )
    response = client.get(reverse("portal:posting", args=[posted.period.pk]))
    lists = {lst.code: [r.name for r in lst.rows] for lst in response.context["lists"]}
    assert lists["black"] == ["西溪村"]
    assert "不予采纳" not in response.content.decode()


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def page_size(pdf: bytes, tmp_path) -> tuple[float, float]:
    path = tmp_path / "size.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout).groups()
    return float(width), float(height)


def test_poster_prints_chinese_and_a3_is_larger(posted, client, tmp_path):
    require_tool("pdftotext", "poppler-utils")
    url = reverse("portal:poster", args=[posted.period.pk])
    a4 = client.get(url)
    assert a4["Content-Type"] == "application/pdf"
    text = pdf_text(a4.content, tmp_path)
    for word in ("六比六争（测试）", "红榜", "黑榜", "进步榜", "东岭村", "西溪村", "溪口村"):
        assert word in text, word
    a3 = client.get(url, {"size": "a3"})
    assert page_size(a4.content, tmp_path) == pytest.approx((595.3, 841.9), abs=1)
    assert page_size(a3.content, tmp_path) == pytest.approx((841.9, 1190.6), abs=1)
    one = pdf_text(client.get(url, {"region": "330304002"}).content, tmp_path)
    assert "西溪镇" in one and "西溪村" in one and "东岭村" not in one
    assert client.get(url, {"size": "b5"}).status_code == 404


def test_poster_masks_persons(county, client, tmp_path):
    require_tool("pdftotext", "poppler-utils")
    period = household_posting(county)
    url = reverse("portal:poster", args=[period.pk])
    text = pdf_text(client.get(url).content, tmp_path)
    village = pdf_text(client.get(url, {"region": "330304001001"}).content, tmp_path)
    assert "红榜" in text
    # A village's board also lists every household of the village, masked.
    assert "东岭村" in village and "王*国" in village and "李*英" in village
    for name in Subject.objects.filter(kind="household").values_list("name", flat=True):
        assert name not in text and name not in village


def test_public_excel_has_a_sheet_per_list_and_the_results(posted, client):
    response = client.get(reverse("portal:export", args=[posted.period.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["考评结果", "红榜", "黑榜", "进步榜"]
    results = list(workbook["考评结果"].iter_rows(values_only=True))
    assert results[0][:6] == ("排名组", "名次", "名称", "所属", "总分", "等次")
    assert "堡垒指数" in results[0] and "环境指数" in results[0]
    by_name = {row[2]: row for row in results[1:]}
    index = results[0].index("环境指数")
    assert by_name["西溪村"][4] == 10 and by_name["西溪村"][index] == 10
    assert [r[1] for r in list(workbook["黑榜"].iter_rows(values_only=True))[1:]] == ["西溪村"]


def test_public_page_queries_do_not_grow_with_rows(county, client, django_assert_max_num_queries):
    period = household_posting(county)
    client.get(reverse("portal:posting", args=[period.pk]))  # parse and cache the rules
    with django_assert_max_num_queries(12):
        html_of(client.get(reverse("portal:posting", args=[period.pk])))


def test_public_posting_is_served_from_the_cache_until_its_period_changes(
    posted, client, county, django_assert_num_queries
):
    url = reverse("portal:posting", args=[posted.period.pk])
    first = html_of(client.get(url))
    with django_assert_num_queries(0):  # an anonymous reader's second visit: no query at all
        assert html_of(client.get(url)) == first
    later = posted.period.objection_deadline + timedelta(hours=1)
    period_finalise(period=posted.period, acting_user=county.users["alice"], now=later)
    after = html_of(client.get(url))  # finalised: the page says so at once
    assert 'class="status status-final"' in after and 'class="status status-final"' not in first


def test_signed_in_readers_get_the_kept_page_unless_a_message_waits(posted, client, county):
    """The posting shows nothing of who reads it but their messages: a signed-in reader gets
    the copy every reader gets, and the page rendered for them while a message waits, which it
    then shows."""
    url = reverse("portal:posting", args=[posted.period.pk])
    first = html_of(client.get(url))
    client.force_login(county.users["alice"])
    with CaptureQueriesContext(connection) as queries:
        assert html_of(client.get(url)) == first
    # The session only (whether the login must change its password first).
    assert [q["sql"] for q in queries if "django_session" not in q["sql"]] == []

    client.cookies[CookieStorage.cookie_name] = CookieStorage(HttpRequest())._encode(
        [Message(messages.SUCCESS, "异议已提交")]
    )
    with CaptureQueriesContext(connection) as queries:
        shown = html_of(client.get(url))
    assert "异议已提交" in shown and len(queries) > 0
    assert html_of(client.get(url)) == first  # shown once, then the kept copy again


def test_the_results_have_a_grade_column_only_where_grades_are_given(posted, client, county):
    html = html_of(client.get(reverse("portal:posting", args=[posted.period.pk])))
    assert "<th>等次</th>" in html and "优秀" in html
    month = household_posting(county)  # a scheme without grades
    html = html_of(client.get(reverse("portal:posting", args=[month.pk])))
    results = html[html.index('id="results"') :]
    assert "<th>等次</th>" not in results


def test_the_results_heading_names_the_place_shown(posted, client):
    url = reverse("portal:posting", args=[posted.period.pk])
    assert "<h2>全部结果</h2>" in html_of(client.get(url))
    html = html_of(client.get(url, {"region": "330304002"}))
    assert "<h2>西溪镇全部考评结果</h2>" in html and "<h2>全部结果</h2>" not in html


def test_the_way_back_to_the_console_is_the_same_for_every_reader(posted, client, county):
    """A signed-in reader gets the kept copy every reader gets (pagecache.cached_page), so the
    link back to the console is in it for everyone; signed out, the console asks to sign in."""
    url = reverse("portal:posting", args=[posted.period.pk])
    back = f'<a class="back" href="{reverse("console:home")}">返回工作台</a>'
    anonymous = html_of(client.get(url))
    assert back in anonymous
    assert client.get(reverse("console:home")).status_code == 302  # to the login
    client.force_login(county.users["alice"])
    assert html_of(client.get(url)) == anonymous
    assert client.get(reverse("console:home")).status_code == 200
