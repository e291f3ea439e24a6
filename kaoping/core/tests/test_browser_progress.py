"""The progress page in a browser at 360 px: it follows the work while it runs and goes on to
its result when it is done; a reload in between shows the same work."""

import pytest

from kaoping.conftest import browser_login
from kaoping.core.progress import progress_finish, progress_start, progress_step

pytestmark = [pytest.mark.browser]


def test_the_progress_page_follows_the_work_to_its_result(live_server, live_county, phone, shot):
    alice = live_county.users["alice"]
    work = progress_start(kind="report.build", label="三月月报", total=4, user_id=alice.pk)
    browser_login(phone, live_server, "alice")
    phone.goto(f"{live_server.url}/progress/{work.pk}/")
    card = phone.locator("#progress")
    assert card.get_attribute("data-status") == "running"
    assert "三月月报" in phone.locator("h1").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "1-running")

    progress_step(work, done=2, message="汇总各镇数据")
    phone.locator("#progress progress[value='2']").wait_for()  # the page polled and saw it
    assert "汇总各镇数据" in card.inner_text()
    phone.reload()  # the same work, where it stands
    assert phone.locator("#progress progress[value='2']").count() == 1
    shot(phone, "2-halfway")

    result = f"/regions/{live_county.region('330304').code}/"
    progress_finish(work, url=result)
    phone.wait_for_url(f"**{result}")  # the poll that saw it done went on to the result
    phone.goto(f"{live_server.url}/progress/{work.pk}/")  # a reload after: still done
    assert phone.locator("#progress").get_attribute("data-status") == "done"
    shot(phone, "3-done")
