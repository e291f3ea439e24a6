"""Issue acceptance on a 360-px phone: dave's round, five visits (one records a member moving
out), what was typed survives a reload, and the book shows the move with who, when and visit."""

import pytest

from kaoping.conftest import browser_login
from kaoping.grid.models import Visit
from kaoping.people.models import BookChange, Household, Person
from kaoping.problems.models import Problem

pytestmark = [pytest.mark.browser]

GRID1 = "330304001001001"


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide"


def test_round_five_visits_restore_and_book(live_server, live_county, phone, shot):
    grid = live_county.region(GRID1)
    for n in range(3):  # five households in dave's grid
        household = Household.objects.create(region=grid, number=f"{GRID1[:12]}9{n:03d}")
        head = Person.objects.create(
            household=household, region=grid, name=f"钱{'一二三'[n]}", relation="户主"
        )
        household.head = head
        household.save(update_fields=["head"])
    in_grid = list(Household.objects.filter(region=grid).order_by("number"))
    assert len(in_grid) == 5
    first = in_grid[0]
    spouse = first.members.order_by("id")[1]

    browser_login(phone, live_server, "dave")
    phone.goto(f"{live_server.url}/grid/round/")
    assert phone.locator("h1").inner_text() == "今日走访"
    assert phone.locator(".round-row").count() == 5  # his grid alone
    assert phone.locator(".round-row.is-done").count() == 0
    no_sideways_scroll(phone)
    shot(phone, "1-round")

    # The first visit records the spouse moving out.
    phone.goto(f"{live_server.url}/grid/households/{first.pk}/visit/")
    no_sideways_scroll(phone)
    phone.get_by_label(first.head.name, exact=False).first.check()
    phone.select_option(f"select[name=act_{spouse.pk}]", "moved_out")
    phone.fill("textarea[name=note]", "配偶已迁出")
    shot(phone, "2-visit-form")
    phone.click("button.sticky-submit")
    phone.wait_for_url("**/grid/visits/**")
    assert "走访已保存" in phone.content()
    assert spouse.name in phone.locator("main").inner_text()
    shot(phone, "3-visit-saved")

    # A problem found on the visit, from the saved visit's page (the problems app's form).
    phone.get_by_role("link", name="登记问题").click()
    phone.wait_for_url("**/problems/raise/**")
    phone.fill("input[name=title]", "院墙开裂")
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    problem = Problem.objects.get()
    assert problem.household_id == first.pk and problem.visit_id == Visit.objects.get().pk

    # Four more from the round, each from the first household still due.
    for n in range(4):
        phone.goto(f"{live_server.url}/grid/round/")
        phone.locator(".round-row:not(.is-done) a.button").first.click()
        phone.wait_for_url("**/visit/")
        if n == 1:
            phone.check("input[name=phone]")  # a phone call counts too
        phone.fill("textarea[name=note]", f"第{n + 2}户走访")
        phone.click("button.sticky-submit")
        phone.wait_for_url("**/grid/visits/**")

    phone.goto(f"{live_server.url}/grid/round/")
    assert phone.locator(".round-row.is-done").count() == 5
    assert "5 / 5" in phone.locator("main > p.muted").first.inner_text()
    shot(phone, "4-round-done")
    assert Visit.objects.count() == 5
    assert Visit.objects.filter(kind="phone").count() == 1

    # A lost connection never loses what was typed: the note comes back after a reload.
    second = in_grid[1]
    phone.goto(f"{live_server.url}/grid/households/{second.pk}/visit/")
    assert phone.locator("[data-restored-notice]").is_hidden()  # cleared after each saved visit
    phone.fill("textarea[name=note]", "网络断了也不丢")
    phone.reload()
    assert phone.input_value("textarea[name=note]") == "网络断了也不丢"
    assert phone.locator("[data-restored-notice]").is_visible()
    shot(phone, "5-restored")

    # The book shows the move: who, when, on which visit.
    phone.goto(f"{live_server.url}/grid/households/{first.pk}/book/")
    no_sideways_scroll(phone)
    changes = phone.locator("#changes").inner_text()
    move = BookChange.objects.get(person=spouse)
    assert "迁出" in changes or move.get_kind_display() in changes
    assert spouse.name in changes and "dave" in changes
    visit = Visit.objects.get(pk=move.visit_id)
    link = phone.locator(f"#changes a[href='/grid/visits/{visit.pk}/']")
    assert link.count() == 1
    assert spouse.name in phone.locator("#members").inner_text()  # among the former members
    assert "院墙开裂" in phone.locator("#problems").inner_text()
    shot(phone, "6-book")
    link.click()
    phone.wait_for_url(f"**/grid/visits/{visit.pk}/")
    assert "配偶已迁出" in phone.locator("main").inner_text()
