import io
from datetime import date
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.core.leases import lease_renew
from kaoping.ledger.models import Entry, ImportJob, ImportStatus
from kaoping.ledger.testing import HOUSEHOLD_SCHEME, import_workbook
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

CAROL_1, CAROL_2 = "3303040010010001", "3303040010010002"
OSCAR_1 = "3303040020010007"


@pytest.fixture
def scheme(county):
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="hh.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def xlsx(rows, name="entries.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, import_workbook(rows))


def carol_rows():
    return [
        (CAROL_1, "参加志愿服务活动", 1, None, date(2026, 3, 5), ""),
        (CAROL_2, "文明户评议", None, "优秀", date(2026, 3, 6), ""),
    ]


def post_file(client, scheme, upload):
    return client.post(reverse("ledger:imports"), {"scheme": scheme.pk, "file": upload})


@pytest.mark.parametrize("username", ["alice", "bob", "carol"])
def test_upload_preview_and_import_within_scope(county, client_for, scheme, username):
    client = client_for(county, username)
    assert client.get(reverse("ledger:imports")).status_code == 200

    response = post_file(client, scheme, xlsx(carol_rows()))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "ledger:import_job", args=[job.pk]
    )
    page = client.get(response.url)
    assert page.context["can_commit"] and job.errors == []
    assert Entry.objects.count() == 0

    response = client.post(reverse("ledger:import_commit", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.COMMITTED and Entry.objects.count() == 2
    page = client.get(reverse("ledger:import_job", args=[job.pk]))
    assert page.context["by_status"] == [{"status": "submitted", "n": 2}]

    # A second click, or the same file uploaded again, changes nothing.
    client.post(reverse("ledger:import_commit", args=[job.pk]))
    post_file(client, scheme, xlsx_same(job))
    again = ImportJob.objects.latest("pk")
    assert again.errors[0]["duplicate_of"] == job.pk
    shown = client.get(reverse("ledger:import_job", args=[again.pk])).content.decode()
    # Said as what it is, not as rows to fix.
    assert "这个文件已经导入过" in shown and "请在文件中改正" not in shown
    # The form below it takes a new file: nothing in this one is to be corrected.
    assert "<h2>上传文件</h2>" in shown and "上传改正后的文件" not in shown

    # A job whose check the server cut short (no rows, no problems) offers no import.
    post_file(client, scheme, xlsx(carol_rows()[:1]))
    cut = ImportJob.objects.latest("pk")
    ImportJob.objects.filter(pk=cut.pk).update(rows_total=0, errors=[])
    page = client.get(reverse("ledger:import_job", args=[cut.pk]))
    assert not page.context["can_commit"]
    assert "这个文件的检查没有完成，请重新上传。" in page.content.decode()
    assert "<h2>上传文件</h2>" in page.content.decode()
    assert "上传改正后的文件" not in page.content.decode()
    assert client.post(reverse("ledger:import_commit", args=[again.pk])).status_code == 302
    assert Entry.objects.count() == 2


def xlsx_same(job) -> SimpleUploadedFile:
    with job.file.open("rb") as stream:
        return SimpleUploadedFile("again.xlsx", stream.read())


def test_template_download(county, client_for, scheme):
    response = client_for(county, "carol").get(
        reverse("ledger:import_template", args=[scheme.code])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "记分导入"


def test_oscar_cannot_import_for_carols_village(county, client_for, scheme):
    client = client_for(county, "oscar")
    rows = [(OSCAR_1, "乱倒垃圾", 1, None, date(2026, 3, 5), ""), *carol_rows()]
    post_file(client, scheme, xlsx(rows))
    job = ImportJob.objects.get()
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "对象"), (4, "对象")]
    page = client.get(reverse("ledger:import_job", args=[job.pk]))
    assert not page.context["can_commit"]
    # The message repeats the household number; it does not tell oscar who heads the household.
    assert CAROL_1 in page.content.decode() and "王建国" not in page.content.decode()
    client.post(reverse("ledger:import_commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and Entry.objects.count() == 0


def test_problems_are_shown_by_row_and_column(county, client_for, scheme):
    client = client_for(county, "carol")
    post_file(client, scheme, xlsx([(CAROL_1, "种树", "两次", None, "明天", "")]))
    job = ImportJob.objects.get()
    page = client.get(reverse("ledger:import_job", args=[job.pk])).content.decode()
    for cell in ("B2", "C2", "E2"):
        assert cell in page
    assert "种树" in page and "两次" in page
    assert "<h2>上传改正后的文件</h2>" in page
    # On a phone the column and its cell stay on one line; the message beside them wraps.
    assert '<td class="column">评分项 <small class="muted mono">B2</small></td>' in page
    css = Path(finders.find("console/console.css")).read_text()
    assert "table.problems td.column { white-space:nowrap; }" in css


def test_others_see_a_job_in_their_area_but_only_the_uploader_imports(county, client_for, scheme):
    post_file(client_for(county, "carol"), scheme, xlsx(carol_rows()))
    job = ImportJob.objects.get()
    bob = client_for(county, "bob")
    assert bob.get(reverse("ledger:import_job", args=[job.pk])).status_code == 200
    assert bob.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 403
    oscar = client_for(county, "oscar")
    assert oscar.get(reverse("ledger:import_job", args=[job.pk])).status_code == 404
    assert oscar.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and Entry.objects.count() == 0


def test_villager_may_not_import(county, client_for, scheme):
    post_file(client_for(county, "carol"), scheme, xlsx(carol_rows()))
    job = ImportJob.objects.get()
    erin = client_for(county, "erin")
    assert erin.get(reverse("ledger:imports")).status_code == 403
    assert erin.get(reverse("ledger:import_template", args=[scheme.code])).status_code == 403
    assert post_file(erin, scheme, xlsx(carol_rows())).status_code == 403
    assert erin.post(reverse("ledger:import_commit", args=[job.pk])).status_code == 403
    assert erin.get(reverse("ledger:import_job", args=[job.pk])).status_code == 403
    assert ImportJob.objects.count() == 1 and Entry.objects.count() == 0


def test_anonymous_is_sent_to_login(county, client_for, scheme):
    client = client_for(county, None)
    for url in (
        reverse("ledger:imports"),
        reverse("ledger:import_template", args=[scheme.code]),
        reverse("ledger:import_job", args=[1]),
        reverse("ledger:import_status", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url
    assert "/login/" in post_file(client, scheme, xlsx(carol_rows())).url
    assert ImportJob.objects.count() == 0


def test_status_polls_while_running_and_stops_when_done(county, client_for, scheme):
    client = client_for(county, "carol")
    post_file(client, scheme, xlsx(carol_rows()))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMMITTING, rows_done=1)
    lease_renew(f"ledger.import:{job.pk}")  # a live worker (without one it has stalled)
    status_url = reverse("ledger:import_status", args=[job.pk])
    running = client.get(status_url).content.decode()
    assert f'hx-get="{status_url}"' in running and 'hx-trigger="every 2s"' in running
    assert 'value="1" max="2"' in running  # checking row 1 of 2

    ImportJob.objects.filter(pk=job.pk).update(rows_done=2)
    writing = client.get(status_url)
    assert writing.context["writing"] and "hx-get" in writing.content.decode()

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.COMMITTED)
    assert "hx-get" not in client.get(status_url).content.decode()


def test_wrong_file_type_is_refused_by_the_form(county, client_for, scheme):
    client = client_for(county, "carol")
    response = post_file(client, scheme, SimpleUploadedFile("entries.docx", b"x"))
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert ImportJob.objects.count() == 0


def test_menu_shows_the_import_to_those_who_record(county, client_for):
    assert "/imports/" in client_for(county, "carol").get(reverse("console:home")).content.decode()
    villager = client_for(county, "erin").get(reverse("console:home"), follow=True)
    assert "/imports/" not in villager.content.decode()
