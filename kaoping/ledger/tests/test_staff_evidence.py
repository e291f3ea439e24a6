"""Evidence on the staff forms (one entry, a grid's batch) and evidence received after an import."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.models import AuditLog
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.imports import import_commit, import_upload
from kaoping.ledger.models import Entry, EntrySource, Evidence
from kaoping.ledger.selectors import entry_review_queue
from kaoping.ledger.services import (
    EntryDraft,
    Recorder,
    entries_record_batch,
    entry_evidence_attach,
    entry_record,
)
from kaoping.ledger.testing import import_workbook, png_upload
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load

from .ledger_fixture import GRID, add_reviewer

pytestmark = pytest.mark.django_db

SCHEME = """
code: hh-ev
version: 1
name: 农户积分(证据)
subject_kind: household
cadence: month
base: 100
review:
  by: [review_member]
tree:
  - code: POS
    name: 正面清单
    section: bonus
    children:
      - {code: CLEAN, name: 庭院整洁, rule: count, points: 1}
  - code: NEG
    name: 负面清单
    section: deduction
    children:
      - {code: DIRTY, name: 暗访发现脏乱差, rule: count, points: -5, evidence_required: true}
"""


def load(county, text=SCHEME):
    version, _ = scheme_load(
        text=text, filename="hh-ev.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


@pytest.fixture
def scheme(county):
    return load(county)


@pytest.fixture
def homes(county, scheme):
    return list(Subject.objects.filter(kind="household", region__code=GRID).order_by("pk"))


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def not_a_photo(name="说明.txt"):
    return SimpleUploadedFile(name, b"just some words", content_type="text/plain")


YESTERDAY = timezone.localdate() - timedelta(days=1)


# ─── services ───


def test_one_entry_needs_its_evidence_and_takes_several_files(county, scheme, homes):
    dave = county.users["dave"]
    with pytest.raises(KaopingError) as refused:
        entry_record(
            scheme=scheme,
            subject=homes[0],
            item_code="DIRTY",
            occurred_on=YESTERDAY,
            acting_user=dave,
        )
    assert "evidence" in refused.value.message_dict
    entry, created = entry_record(
        scheme=scheme,
        subject=homes[0],
        item_code="DIRTY",
        occurred_on=YESTERDAY,
        acting_user=dave,
        evidence=[png_upload("一.png"), png_upload("二.png", (1, 2, 3))],
    )
    assert created and entry.status == "submitted"
    assert sorted(entry.evidence.values_list("original_name", flat=True)) == ["一.png", "二.png"]


def test_too_many_files_are_refused(county, scheme, homes, settings):
    uploads = [png_upload(f"{n}.png", (n, n, n)) for n in range(7)]
    with pytest.raises(KaopingError) as refused:
        entry_record(
            scheme=scheme,
            subject=homes[0],
            item_code="DIRTY",
            occurred_on=YESTERDAY,
            acting_user=county.users["dave"],
            evidence=uploads,
        )
    assert "6" in refused.value.message_dict["evidence"][0]
    assert Entry.objects.count() == 0 and stored_files(settings) == []


def test_a_batch_with_one_bad_file_writes_no_entry_and_no_file(county, scheme, homes, settings):
    drafts = [
        EntryDraft(
            subject=homes[0], item_code="DIRTY", occurred_on=YESTERDAY, evidence=[png_upload()]
        ),
        EntryDraft(
            subject=homes[1], item_code="DIRTY", occurred_on=YESTERDAY, evidence=[not_a_photo()]
        ),
        EntryDraft(subject=homes[0], item_code="CLEAN", occurred_on=YESTERDAY),
        EntryDraft(subject=homes[1], item_code="DIRTY", occurred_on=YESTERDAY),
    ]
    with pytest.raises(ImportFailed) as failed:
        entries_record_batch(
            scheme=scheme, drafts=drafts, acting_user=county.users["dave"], source="collected"
        )
    found = {(e.row, e.field): e.message for e in failed.value.errors}
    assert set(found) == {(2, "evidence"), (4, "evidence")}
    assert "说明.txt" in found[(2, "evidence")]
    assert Entry.objects.count() == 0 and Evidence.objects.count() == 0
    assert stored_files(settings) == []


def test_a_batch_keeps_each_rows_files_with_its_entry(county, scheme, homes):
    drafts = [
        EntryDraft(subject=homes[0], item_code="CLEAN", occurred_on=YESTERDAY),
        EntryDraft(
            subject=homes[1],
            item_code="DIRTY",
            occurred_on=YESTERDAY,
            evidence=[png_upload("a.png", (9, 9, 9)), png_upload("b.png", (8, 8, 8))],
        ),
    ]
    clean, dirty = entries_record_batch(
        scheme=scheme, drafts=drafts, acting_user=county.users["dave"], source="collected"
    )
    assert clean.evidence.count() == 0
    assert sorted(dirty.evidence.values_list("original_name", flat=True)) == ["a.png", "b.png"]


def imported(county, scheme, homes, text_rows=None):
    rows = text_rows or [
        (homes[0].household.number, "庭院整洁", 1, None, YESTERDAY, ""),
        (homes[1].household.number, "暗访发现脏乱差", 1, None, YESTERDAY, "3月暗访"),
    ]
    job = import_upload(
        scheme=scheme,
        data=import_workbook(rows),
        filename="扣分.xlsx",
        acting_user=county.users["carol"],
    )
    assert job.errors == []
    return import_commit(job, acting_user=county.users["carol"])


def test_an_import_writes_evidence_rows_as_awaiting_and_they_reach_review_once_attached(
    county, scheme, homes
):
    rita = add_reviewer(county)
    job = imported(county, scheme, homes)
    assert job.status == "committed"
    statuses = dict(job.entries.values_list("item_code", "status"))
    assert statuses == {"CLEAN": "submitted", "DIRTY": "awaiting"}
    assert AuditLog.objects.get(action="ledger.import.committed").after["awaiting_evidence"] == 1
    waiting = job.entries.get(item_code="DIRTY")
    queue = entry_review_queue(user=rita, filters={})
    assert list(queue.values_list("item_code", flat=True)) == ["CLEAN"]

    # A colleague who may record there (dave, the grid member) holds the photo.
    entry_evidence_attach(entry=waiting, files=[png_upload()], acting_user=county.users["dave"])
    waiting.refresh_from_db()
    assert waiting.status == "submitted" and waiting.evidence.count() == 1
    assert sorted(
        entry_review_queue(user=rita, filters={}).values_list("item_code", flat=True)
    ) == [
        "CLEAN",
        "DIRTY",
    ]
    row = AuditLog.objects.get(action="ledger.entry.evidence_attached")
    assert row.after["status"] == "submitted" and len(row.after["evidence"]) == 1
    # The move is a chained decision: the ledger still verifies, and a hand edit back would not.
    decision = waiting.decisions.get()
    assert (decision.action, decision.before_status, decision.status) == (
        "evidence",
        "awaiting",
        "submitted",
    )
    assert list(chain_verify()) == []
    with pytest.raises(KaopingError):  # it waits no longer
        entry_evidence_attach(entry=waiting, files=[png_upload()], acting_user=county.users["dave"])


def test_attaching_a_bad_file_or_none_changes_nothing(county, scheme, homes, settings):
    job = imported(county, scheme, homes)
    waiting = job.entries.get(item_code="DIRTY")
    for files in ([], [not_a_photo()], [png_upload(), not_a_photo("坏.pdf")]):
        with pytest.raises(KaopingError) as refused:
            entry_evidence_attach(entry=waiting, files=files, acting_user=county.users["carol"])
        assert "evidence" in refused.value.message_dict
    waiting.refresh_from_db()
    assert waiting.status == "awaiting" and Evidence.objects.count() == 0
    assert stored_files(settings) == []


def test_out_of_scope_cannot_attach(county, scheme, homes):
    job = imported(county, scheme, homes)
    waiting = job.entries.get(item_code="DIRTY")
    with pytest.raises(Refused):
        entry_evidence_attach(
            entry=waiting, files=[png_upload()], acting_user=county.users["oscar"]
        )
    waiting.refresh_from_db()
    assert waiting.status == "awaiting"


def test_where_the_scheme_approves_imports_the_attached_entry_counts(
    county, homes, django_capture_on_commit_callbacks
):
    received = []
    from kaoping.ledger.signals import entries_approved

    def listen(sender, entry_ids, **kwargs):
        received.extend(entry_ids)

    entries_approved.connect(listen)
    try:
        scheme = load(
            county,
            SCHEME.replace("hh-ev", "hh-ev-auto").replace(
                "  by: [review_member]", "  by: [review_member]\n  auto_approve: [imported]"
            ),
        )
        homes = list(Subject.objects.filter(kind="household", region__code=GRID).order_by("pk"))
        job = imported(county, scheme, homes)
        waiting = job.entries.get(item_code="DIRTY")
        assert waiting.status == "awaiting" and waiting.pk not in received
        with django_capture_on_commit_callbacks(execute=True):
            entry_evidence_attach(
                entry=waiting, files=[png_upload()], acting_user=county.users["carol"]
            )
    finally:
        entries_approved.disconnect(listen)
    waiting.refresh_from_db()
    assert waiting.status == "approved" and waiting.pk in received
    assert waiting.source == EntrySource.IMPORTED


def test_only_an_import_writes_entries_awaiting_evidence(county, scheme, homes):
    draft = EntryDraft(subject=homes[0], item_code="DIRTY", occurred_on=YESTERDAY)
    computed = Recorder(scheme=scheme, acting_user=system_actor(), source="computed")
    assert computed.build(draft).status == "approved"
    imported_row = Recorder(
        scheme=scheme, acting_user=county.users["carol"], source="imported", evidence_later=True
    )
    assert imported_row.problems(draft) == {}
    assert imported_row.build(draft).status == "awaiting"


# ─── pages ───


def test_the_single_entry_form_takes_photos_from_the_camera(county, scheme, homes, client_for):
    client = client_for(county, "dave")
    url = reverse("ledger:entry_new", args=[homes[0].pk, scheme.code])
    page = client.get(url)
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/*,application/pdf"' in html and " multiple" in html
    assert 'data-photo="required"' in html
    key = page.context["form"].initial["idempotency_key"]
    data = {
        "item_code": "DIRTY",
        "quantity": "1",
        "occurred_on": YESTERDAY.isoformat(),
        "idempotency_key": key,
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "evidence" in refused.context["form"].errors
    assert Entry.objects.count() == 0
    done = client.post(
        url, {**data, "evidence": [png_upload("现场1.png"), png_upload("现场2.png", (3, 3, 3))]}
    )
    assert done.status_code == 302
    entry = Entry.objects.get()
    assert entry.item_code == "DIRTY" and entry.evidence.count() == 2


def test_the_grid_form_takes_a_photo_per_household_and_names_the_row(
    county, scheme, homes, client_for, settings
):
    client = client_for(county, "dave")
    url = reverse("ledger:grid_record", args=[GRID, scheme.code])
    html = client.get(url).content.decode()
    assert f'name="evidence_{homes[0].pk}"' in html and 'enctype="multipart/form-data"' in html
    base = {"form_key": "k1", "occurred_on": YESTERDAY.isoformat()}
    refused = client.post(
        url,
        {
            **base,
            f"item_{homes[0].pk}": "DIRTY",
            f"evidence_{homes[0].pk}": png_upload(),
            f"item_{homes[1].pk}": "DIRTY",
        },
    )
    assert refused.status_code == 200
    rows = {s.pk: s.row_errors for s in refused.context["subjects"]}
    assert rows[homes[0].pk] == [] and len(rows[homes[1].pk]) == 1
    assert Entry.objects.count() == 0 and stored_files(settings) == []
    done = client.post(
        url,
        {
            **base,
            "form_key": "k2",
            f"item_{homes[0].pk}": "DIRTY",
            f"evidence_{homes[0].pk}": png_upload(),
            f"item_{homes[1].pk}": "CLEAN",
        },
    )
    assert done.status_code == 302
    assert dict(Entry.objects.values_list("subject_id", "item_code")) == {
        homes[0].pk: "DIRTY",
        homes[1].pk: "CLEAN",
    }
    assert Entry.objects.get(item_code="DIRTY").evidence.count() == 1


def test_a_photo_without_an_item_is_not_dropped_silently(
    county, scheme, homes, client_for, settings
):
    response = client_for(county, "dave").post(
        reverse("ledger:grid_record", args=[GRID, scheme.code]),
        {
            "form_key": "k3",
            "occurred_on": YESTERDAY.isoformat(),
            f"item_{homes[0].pk}": "CLEAN",
            f"evidence_{homes[1].pk}": png_upload(),
        },
    )
    assert response.status_code == 200
    rows = {s.pk: s.row_errors for s in response.context["subjects"]}
    assert rows[homes[1].pk] == ["请选择这张照片或这个文件对应的评分项。"]
    assert Entry.objects.count() == 0 and stored_files(settings) == []


def test_awaiting_entries_are_listed_with_add_evidence_and_attached_there(
    county, scheme, homes, client_for
):
    job = imported(county, scheme, homes)
    waiting = job.entries.get(item_code="DIRTY")
    carol = client_for(county, "carol")
    add = reverse("ledger:entry_evidence", args=[waiting.pk])
    job_page = carol.get(reverse("ledger:import_job", args=[job.pk])).content.decode()
    assert add in job_page and "暗访发现脏乱差" in job_page
    mine = carol.get(reverse("ledger:my_entries")).content.decode()
    assert add in mine
    page = carol.get(add)
    assert page.status_code == 200 and 'accept="image/*,application/pdf"' in page.content.decode()
    empty = carol.post(add)
    assert empty.status_code == 200 and empty.context["form"].errors
    done = carol.post(
        add, {"evidence": [png_upload()], "next": reverse("ledger:import_job", args=[job.pk])}
    )
    assert done.status_code == 302 and done["Location"] == reverse(
        "ledger:import_job", args=[job.pk]
    )
    waiting.refresh_from_db()
    assert waiting.status == "submitted"
    assert add not in carol.get(reverse("ledger:my_entries")).content.decode()
    # Out of scope: oscar is 西溪村's secretary.
    assert client_for(county, "oscar").post(add, {"evidence": [png_upload()]}).status_code == 404


def test_an_unsafe_next_is_ignored(county, scheme, homes, client_for):
    job = imported(county, scheme, homes)
    waiting = job.entries.get(item_code="DIRTY")
    done = client_for(county, "carol").post(
        reverse("ledger:entry_evidence", args=[waiting.pk]),
        {"evidence": [png_upload()], "next": "https://evil.example/"},
    )
    assert done["Location"] == reverse("ledger:my_entries")
