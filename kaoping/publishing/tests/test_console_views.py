"""Console pages of the posting by persona: objections (view, decide) and the full export."""

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry
from kaoping.people.models import Subject
from kaoping.periods.models import Result
from kaoping.publishing.models import Objection, ObjectionStatus
from kaoping.publishing.services import objection_file

from .fixtures import household_posting, posted_quarter

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(county):
    return posted_quarter(county)


@pytest.fixture
def objections(posted):
    """One objection in 东岭街道 (bob's area), one in 西溪镇, one about the whole posting."""

    def one(name, address):
        return objection_file(
            period=posted.period,
            subject=posted.villages[name] if name else None,
            name="陈小明",
            contact="13800001234",
            reason="扣分有误，请核实。",
            address=address,
        )

    return {"dongling": one("东岭村", "a"), "xixi": one("西溪村", "b"), "county": one(None, "c")}


@pytest.mark.parametrize(
    ("username", "status"),
    [("alice", 200), ("bob", 200), ("carol", 403), ("erin", 403), ("grace", 403)],
)
def test_objection_list_by_persona(objections, client_for, county, username, status):
    response = client_for(county, username).get(reverse("portal:objections"))
    assert response.status_code == status


def test_anonymous_is_sent_to_login(objections, client):
    for url in (
        reverse("portal:objections"),
        reverse("portal:objection_detail", args=[objections["xixi"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_bob_sees_the_objections_of_his_area_only(objections, client_for, county):
    client = client_for(county, "bob")
    shown = {o.pk for o in client.get(reverse("portal:objections")).context["page"]}
    assert shown == {objections["dongling"].pk}
    ok = client.get(reverse("portal:objection_detail", args=[objections["dongling"].pk]))
    html = ok.content.decode()
    assert ok.status_code == 200
    assert "13800001234" not in html and "138****1234" in html  # only handlers see contacts
    assert "陈小明" not in html and "陈*明" in html
    assert 'id="decision-form"' not in html
    for other in ("xixi", "county"):
        url = reverse("portal:objection_detail", args=[objections[other].pk])
        assert client.get(url).status_code == 404


def test_bob_cannot_decide(objections, client_for, county):
    objection = objections["dongling"]
    response = client_for(county, "bob").post(
        reverse("portal:objection_detail", args=[objection.pk]),
        {"decision": "dismiss", "text": "不属实"},
    )
    assert response.status_code == 403
    assert Objection.objects.get(pk=objection.pk).status == ObjectionStatus.SUBMITTED


@pytest.mark.parametrize("username", ["carol", "erin"])
def test_village_personas_cannot_open_an_objection(objections, client_for, county, username):
    url = reverse("portal:objection_detail", args=[objections["dongling"].pk])
    client = client_for(county, username)
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "dismiss", "text": "x"}).status_code == 403
    assert Objection.objects.get(pk=objections["dongling"].pk).status == ObjectionStatus.SUBMITTED


def test_alice_sees_everything_in_full_and_upholds_with_a_correction(
    posted, objections, client_for, county
):
    client = client_for(county, "alice")
    shown = {o.pk for o in client.get(reverse("portal:objections")).context["page"]}
    assert shown == {o.pk for o in objections.values()}
    objection = objections["xixi"]
    url = reverse("portal:objection_detail", args=[objection.pk])
    html = client.get(url).content.decode()
    assert "13800001234" in html and "陈小明" in html
    wrong = Entry.objects.get(subject=posted.villages["西溪村"], item_code="HJ1")
    assert f'value="{wrong.pk}"' in html  # the entries of the line can be reversed
    response = client.post(
        url,
        {
            "decision": "uphold",
            "text": "经核实，扣分记错，予以冲正并补记组织生活 1 次。",
            "reverse": [wrong.pk],
            "item_code": "BL1",
            "quantity": "1",
            "occurred_on": "2026-08-20",
        },
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.UPHELD and objection.applied_at
    result = Result.objects.get(period=posted.period, subject=posted.villages["西溪村"])
    assert posted.period.version.to_points(result.total) == 22  # 20 base + 2, deduction reversed
    page = client.get(url).content.decode()
    assert "冲正" in page and 'id="decision-form"' not in page


def test_alice_dismisses_the_county_level_objection(objections, client_for, county):
    objection = objections["county"]
    url = reverse("portal:objection_detail", args=[objection.pk])
    client = client_for(county, "alice")
    html = client.get(url).content.decode()
    assert 'name="subject"' in html  # a correction of a county-level objection picks its line
    response = client.post(url, {"decision": "dismiss", "text": "公示无误。"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED and objection.decision == "公示无误。"


def test_a_correction_for_a_county_level_objection_names_its_subject(
    posted, objections, client_for, county
):
    objection = objections["county"]
    subject = posted.villages["西溪村"]
    url = reverse("portal:objection_detail", args=[objection.pk])
    client = client_for(county, "alice")
    assert "BL1" in client.get(url, {"subject": subject.pk}).content.decode()
    response = client.post(
        url,
        {
            "subject": subject.pk,
            "decision": "uphold",
            "text": "补记。",
            "item_code": "BL1",
            "quantity": "2",
            "occurred_on": date(2026, 8, 1).isoformat(),
        },
    )
    assert response.status_code == 302
    assert Entry.objects.filter(subject=subject, item_code="BL1", note__contains="补记").exists()


def test_an_invalid_decision_shows_the_error(objections, client_for, county):
    url = reverse("portal:objection_detail", args=[objections["xixi"].pk])
    response = client_for(county, "alice").post(url, {"decision": "uphold", "text": "属实"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Objection.objects.get(pk=objections["xixi"].pk).status == ObjectionStatus.SUBMITTED


def test_nav_and_period_page_links(posted, client_for, county):
    alice = client_for(county, "alice").get(reverse("periods:detail", args=[posted.period.pk]))
    html = alice.content.decode()
    assert reverse("portal:objections") in html
    for url in (
        reverse("portal:posting", args=[posted.period.pk]),
        reverse("portal:poster", args=[posted.period.pk]),
        reverse("portal:period_export", args=[posted.period.pk]),
    ):
        assert url in html
    carol = client_for(county, "carol").get(reverse("periods:detail", args=[posted.period.pk]))
    assert reverse("portal:objections") not in carol.content.decode()


def workbook_of(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def all_cells(workbook) -> str:
    return " ".join(
        str(c)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    )


def test_console_export_full_names_for_people_viewers_masked_otherwise(county, client_for):
    period = household_posting(county)
    url = reverse("portal:period_export", args=[period.pk])
    alice = all_cells(workbook_of(client_for(county, "alice").get(url)))
    assert "王建国" in alice
    # grace scores for a department: she sees the periods, not the people, of her villages.
    grace = all_cells(workbook_of(client_for(county, "grace").get(url)))
    names = Subject.objects.filter(kind="household").values_list("name", flat=True)
    assert not any(name in grace for name in names)
    assert "赵*" in grace  # 赵强's household lies in 西溪村, inside grace's scope
    # bob's export holds his township only.
    bob = workbook_of(client_for(county, "bob").get(url))
    places = {row[3] for row in bob["考评结果"].iter_rows(min_row=2, values_only=True)}
    assert places == {"东岭村", "南山社区"}


def test_console_export_needs_a_login_and_a_closed_period(posted, client, client_for, county):
    url = reverse("portal:period_export", args=[posted.period.pk])
    assert client.get(url).status_code == 302
    assert client_for(county, "carol").get(url).status_code == 200
    from kaoping.periods.services import period_open

    open_period = period_open(scheme=posted.scheme, label="2026-Q4", acting_user=system_actor())
    assert (
        client_for(county, "alice")
        .get(reverse("portal:period_export", args=[open_period.pk]))
        .status_code
        == 404
    )


def test_objection_list_query_count_does_not_grow_with_objections(posted, client_for, county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    subjects = [*posted.villages.values(), None]  # every village, and the whole posting

    def add(n):
        for i in range(n):
            subject = subjects[i % len(subjects)]
            Objection.objects.create(
                period=posted.period,
                subject=subject,
                region_code=subject.region.code if subject else posted.scheme.region.code,
                name="陈小明",
                contact="13800001234",
                reason="扣分有误，请核实。",
            )

    for username in ("alice", "bob"):  # in full for the handler, masked for a reviewer
        Objection.objects.all().delete()
        client = client_for(county, username)
        counts = []
        for n in (4, 8):  # 4 objections, then 12
            add(n)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("portal:objections"))
            counts.append(len(queries))
        area = "330304" if username == "alice" else "330304001"
        seen = Objection.objects.filter(region_code__startswith=area).count()
        assert len(response.context["page"]) == seen and seen > 4
        assert counts[0] == counts[1], username
