"""`build_inbox`: a few messages in the demo logins' inboxes, so that the inbox, its unread
count and an attachment can be seen: a welcome for everyone, a monthly report (a spreadsheet
attached) for the county and township admins. Delivered through `messages_deliver` with keys, so
a second build adds nothing."""

from io import BytesIO
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from openpyxl import Workbook

from kaoping.accounts.scoping import system_actor
from kaoping.core.tabular import xlsx_row
from kaoping.inbox.services import messages_deliver

if TYPE_CHECKING:
    from kaoping.demo.generator import Build

DEMO_LOGINS = ("county", "township", "dept", "secretary", "committee", "grid", "review", "store")


def build_inbox(build: "Build") -> None:
    system = system_actor()
    users = list(get_user_model().objects.filter(username__in=DEMO_LOGINS).order_by("pk"))
    messages_deliver(
        recipients=users,
        title="欢迎使用考评系统",
        kind="welcome",
        body="首页列出您的待办事项，点击即可前往办理。报表和提醒也会发到这里。",
        url="/",
        dedupe_key="demo:welcome",
        acting_user=system,
    )
    admins = [u for u in users if u.username in ("county", "township")]
    report = _sheet([["指标", "数值"], ["记分条数", 1280], ["待审核", 12], ["约谈", 3]])
    messages_deliver(
        recipients=admins,
        title="2026年10月考评月报",
        kind="report",
        body="本月考评情况见附件。",
        attachment=("2026年10月考评月报.xlsx", report),
        dedupe_key="demo:report:2026-10",
        acting_user=system,
    )


def _sheet(rows) -> bytes:
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet("月报")
    for row in rows:
        worksheet.append(xlsx_row(worksheet, row))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
