"""Overlays (本乡镇/本村增加的评分项, docs/schemes.md §10): the worked example closes to the numbers
the text states, the recorder offers and accepts an overlay's items only inside its region, and
the regions an overlay names are checked against the region table when the file is loaded.
That the close equals the reference with overlays on random trees and ledgers is
test_close_properties (generated schemes carry overlays)."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.api.models import ApiToken
from kaoping.ledger.models import Entry, EntrySource
from kaoping.ledger.services import EntryDraft, Recorder, scorable_items, subject_variant
from kaoping.ledger.template import import_template
from kaoping.people.models import Subject
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open
from kaoping.periods.testing import result_nodes
from kaoping.regions.models import Region
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError
from kaoping.store import services
from kaoping.store.models import Account
from kaoping.store.tests.fixture import erin_subject

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db

DONGLING, NANSHAN, XIXI = "330304001001", "330304001002", "330304002001"


def _load(county, text: str):
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _draft(subject, item):
    return EntryDraft(subject=subject, item_code=item, occurred_on=date(2026, 3, 10))


def test_the_overlay_example_in_the_docs_closes_to_its_numbers(county):
    scheme = _load(county, docs_example("overlay-example"))
    subjects = village_subjects(county)
    dongling, nanshan, xixi = subjects[DONGLING], subjects[NANSHAN], subjects[XIXI]
    for subject in subjects.values():
        record(scheme, subject, "GZ1")
        record(scheme, subject, "GZ2", "2")
        record(scheme, subject, "KF1")
    for subject in (dongling, nanshan):
        record(scheme, subject, "DL1")
    record(scheme, dongling, "DLC1")
    # Written past the recorder (a subject that moved, a bulk load): the close ignores items
    # that are not in the subject's tree.
    record(scheme, xixi, "DL1", "3")
    record(scheme, nanshan, "DLC1", "5")
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())

    version = scheme.latest_version()
    results = {r.subject_id: r for r in Result.objects.filter(period=period)}
    totals = {pk: version.to_points(r.total) for pk, r in results.items()}
    assert totals == {dongling.pk: 23, nanshan.pk: 25, xixi.pk: 16}
    # Each subject's tree: county + 东岭街道 + 东岭村, county + 东岭街道, county alone.
    assert results[dongling.pk].variant == "@330304001001"
    assert results[nanshan.pk].variant == "@330304001"
    assert results[xixi.pk].variant == ""
    nodes = {key: version.to_points(n.value) for key, n in result_nodes(period).items()}
    # 东岭村: GZ2 at the village's 6 (over the street's 8); KF1 excluded, DLC1 −2.
    assert nodes[(dongling.pk, "GZ")] == 25
    assert nodes[(dongling.pk, "KF")] == -2
    assert (dongling.pk, "KF1") not in nodes
    # 南山社区: GZ2 at the street's 8, DL1 3; its DLC1 entry counts nowhere.
    assert nodes[(nanshan.pk, "GZ")] == 29
    assert nodes[(nanshan.pk, "KF")] == -4
    assert (nanshan.pk, "DLC1") not in nodes
    # 西溪村: the county's items only.
    assert nodes[(xixi.pk, "GZ")] == 20
    assert (xixi.pk, "DL1") not in nodes


def test_the_recorder_offers_and_accepts_an_overlay_item_only_in_its_region(county):
    scheme = _load(county, docs_example("overlay-example"))
    subjects = village_subjects(county)
    version = scheme.latest_version()
    offered = {
        code: set(scorable_items(version, subject).values_list("code", flat=True))
        for code, subject in subjects.items()
    }
    assert offered[DONGLING] == {"GZ1", "GZ2", "DL1", "DLC1"}
    assert offered[NANSHAN] == {"GZ1", "GZ2", "DL1", "KF1"}
    assert offered[XIXI] == {"GZ1", "GZ2", "KF1"}
    assert subject_variant(version, subjects[DONGLING]) == "@330304001001"

    recorder = Recorder(scheme=scheme, acting_user=system_actor(), source=EntrySource.CONSOLE)
    assert recorder.problems(_draft(subjects[NANSHAN], "DL1")) == {}
    assert recorder.problems(_draft(subjects[DONGLING], "DLC1")) == {}
    refused = recorder.problems(_draft(subjects[XIXI], "DL1"))["item_code"]
    assert "DL1" in refused and "东岭街道" in refused and "东岭街道海塘巡查" in refused
    refused = recorder.problems(_draft(subjects[NANSHAN], "DLC1"))["item_code"]
    assert "DLC1" in refused and "东岭村" in refused
    # An item of the county's tree that an overlay leaves out is simply not this subject's.
    refused = recorder.problems(_draft(subjects[DONGLING], "KF1"))["item_code"]
    assert "KF1" in refused and "东岭村" not in refused
    # The entry that passes is worth the subject's own points: 东岭村 GZ2 6, 南山社区 8.
    for code, worth in ((DONGLING, 6), (NANSHAN, 8), (XIXI, 5)):
        entry = recorder.build(_draft(subjects[code], "GZ2"))
        assert entry.points == worth


def _with_region(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_a_region_the_county_does_not_have_is_refused_at_its_line_when_loading(county):
    text = _with_region(
        docs_example("overlay-example"), "region: 330304001  ", "region: 330304009  "
    )
    with pytest.raises(SchemeError) as refused:
        _load(county, text)
    (problem,) = refused.value.problems
    line = text.splitlines().index(next(x for x in text.splitlines() if "330304009" in x)) + 1
    assert problem.line == line
    assert "330304009" in problem.message


def test_a_region_outside_the_schemes_county_is_refused(county):
    other = Region.objects.create(code="330305", name="邻县", level="county")
    Region.objects.create(code="330305001", name="邻镇", level="township", parent=other)
    text = _with_region(
        docs_example("overlay-example"), "region: 330304001  ", "region: 330305001  "
    )
    with pytest.raises(SchemeError) as refused:
        _load(county, text)
    (problem,) = refused.value.problems
    assert "邻镇" in problem.message and "瓯海区" in problem.message


# -- the shipped household scheme: 景山社区's own items (330304001001, 东岭村 in the small county)


def _household_points(county):
    text = (Path(settings.BASE_DIR) / "schemes" / "household-points.yaml").read_text("utf-8")
    version, _created = scheme_load(
        text=text,
        filename="household-points.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def _household_in(region_code: str) -> Subject:
    return (
        Subject.objects.filter(kind="household", region__code__startswith=region_code)
        .order_by("pk")
        .first()
    )


def test_the_api_refuses_an_overlay_item_outside_its_village(client, county):
    scheme = _household_points(county)
    _token, key = ApiToken.issue(user=county.users["bob"], name="test")  # 东岭街道 staff

    def post(subject, item):
        body = {
            "scheme": scheme.code,
            "subject_id": subject.pk,
            "item_code": item,
            "occurred_on": "2026-03-05",
        }
        return client.post(
            "/api/entries",
            body,
            content_type="application/json",
            headers={
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": f"overlay-{subject.pk}-{item}",
            },
        )

    refused = post(_household_in("330304001002"), "JSGY02")  # 南山社区
    assert refused.status_code == 422
    message = refused.json()["errors"]["item_code"]
    assert "JSGY02" in str(message) and "东岭村" in str(message)
    assert not Entry.objects.exists()
    assert post(_household_in("330304001001"), "JSGY02").status_code == 201


def test_the_import_template_says_whose_the_local_items_are(county):
    scheme = _household_points(county)
    book = load_workbook(io.BytesIO(import_template(scheme, county.users["alice"])))
    guide = [
        " ".join(str(c or "") for c in row) for row in book["说明"].iter_rows(values_only=True)
    ]
    (line,) = [text for text in guide if "东岭村" in text]  # the line of the local items
    assert "高空抛物" in line and "担任楼道长、单元长并按月履职" in line


def test_the_scheme_page_shows_the_overlays_and_a_villages_whole_tree(county, client_for):
    scheme = _household_points(county)
    client = client_for(county, "alice")
    page = client.get(reverse("periods:scheme", args=[scheme.code]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("景山社区居民公约") == 2 and "东岭村" in html
    assert "高空抛物" in html and "电动车进楼道、入户充电" in html
    assert "@330304001001" not in html.replace("%40330304001001", "")  # no raw key shown
    whole = client.get(
        reverse("periods:scheme", args=[scheme.code]), {"variant": "@330304001001"}
    ).content.decode()
    assert "东岭村" in whole and "高空抛物" in whole and "乱倒垃圾" in whole
    assert 'id="overlays"' not in whole


def test_the_store_credits_an_overlay_item_by_what_it_adds(county):
    """The points account tallies with the subject's own tree (`scoring.TallyTree`): 景山社区's
    JSGY01 (+1, at most 2 a month) and JSGY02 (+2) count for a household of 东岭村."""
    scheme = _household_points(county)
    subject = erin_subject(county)
    assert subject.region.code.startswith("330304001001")
    today = timezone.localdate()
    entries = [record(scheme, subject, "JSGY02", on=today)]
    entries += [record(scheme, subject, "JSGY01", on=today) for _ in range(3)]
    services.accounts_credit(entry_ids=[e.pk for e in entries], acting_user=system_actor())
    account = Account.objects.get(scheme=scheme, subject=subject)
    assert account.balance == 4  # 2 + min(3 × 1, cap 2)
