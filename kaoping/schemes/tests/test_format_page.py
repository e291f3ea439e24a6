"""The scheme format documentation is a page of the product, linked from a refused upload, and
`kaoping scheme check` speaks Chinese."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from kaoping.schemes.format_doc import ERRORS_SECTION

from .test_scheme_views import scheme_text, upload

pytestmark = pytest.mark.django_db


def test_a_refused_upload_links_to_the_format_page_and_its_section(county, client_for):
    client = client_for(county, "alice")
    broken = scheme_text().replace("cap: 15", "cpa: 15")
    html = client.post(reverse("schemes:list"), {"file": upload(broken)}).content.decode()
    assert f'href="{reverse("schemes:format")}#{ERRORS_SECTION}"' in html
    page = client.get(reverse("schemes:format"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'<h2 id="{ERRORS_SECTION}">' in body
    # The table of contents links to the headings' anchors.
    assert (
        'href="#1-%E5%85%88%E7%9C%8B%E4%B8%80%E4%B8%AA%E5%AE%8C%E6%95%B4%E7%9A%84%E4%BE%8B%E5%AD%90"'
        in body
    )
    assert '<h2 id="1-先看一个完整的例子">' in body


def test_the_format_page_needs_a_login(county, client_for):
    assert client_for(county, None).get(reverse("schemes:format")).status_code == 302


def test_scheme_check_reports_in_chinese(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(scheme_text(), encoding="utf-8")
    call_command("scheme", "check", str(good))
    out = capsys.readouterr().out
    assert "考评对象：村社，周期：月度" in out and "1 个评分项" in out, out
    bad = tmp_path / "bad.yaml"
    bad.write_text(scheme_text().replace("cap: 15", "cpa: 15"), encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("scheme", "check", str(bad))
    err = capsys.readouterr().err
    assert f"{bad} 第 11 行，A 党建 › A1 开会：不认识的键 “cpa”" in err, err
    assert "docs/schemes.md" in err and "方案文件写法" in err
