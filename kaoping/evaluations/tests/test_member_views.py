"""The pages of 一联二亮 (services with the month's coverage, pledges) and the member's card on
the public breakdown page: what each persona sees and may do, and the query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.evaluations.models import LinkService, MemberPledge
from kaoping.evaluations.testing import evaluation_world
from kaoping.people.models import Household, PartyMember, Person, Subject
from kaoping.periods.services import period_close, period_open, period_post
from kaoping.schemes.calendar import label_for

pytestmark = pytest.mark.django_db

SERVICES, PLEDGES = reverse("evaluations:services"), reverse("evaluations:pledges")
RECORD, ADD = reverse("evaluations:service_record"), reverse("evaluations:pledge_add")


@pytest.fixture
def world(county):
    return evaluation_world(county)


def household_of(county, name) -> Household:
    return county.persons[name].household


def record_post(county, world, **changes):
    data = {
        "member": world.member.pk,
        "household": household_of(county, "张伟").pk,
        "served_on": timezone.localdate().isoformat(),
        "note": "帮助申请临时救助",
    }
    data.update(changes)
    return data


# --- services ----------------------------------------------------------------------------------


def test_carol_sees_her_members_coverage_and_records_a_service(county, world, client_for):
    client = client_for(county, "carol")
    page = client.get(SERVICES).content.decode()
    assert "王建国" in page and "李秀英" in page  # staff see their members in full
    assert "赵强" not in page  # 西溪村's member
    assert 'id="service-form"' not in page  # a member is chosen first

    chosen = client.get(SERVICES, {"member": world.member.pk}).content.decode()
    zhang = household_of(county, "张伟")
    # A household by its head, masked, and its address; not by its number.
    assert "张*" in chosen and zhang.address and zhang.address in chosen
    assert zhang.number not in chosen and "---------" not in chosen
    assert 'id="service-form"' in chosen
    li = PartyMember.objects.get(person=county.persons["李秀英"])
    unlinked = client.get(SERVICES, {"member": li.pk}).content.decode()
    assert 'id="no-links"' in unlinked and 'id="service-form"' not in unlinked

    response = client.post(RECORD, record_post(county, world))
    assert response.status_code == 302
    assert f"member={world.member.pk}" in response.url
    service = LinkService.objects.get()
    assert (service.member, service.household, service.recorded_by) == (
        world.member,
        zhang,
        county.users["carol"],
    )
    page = client.get(response.url).content.decode()
    assert "帮助申请临时救助" in page
    # The confirmation and the recent services name the household the same way.
    assert page.count(zhang.address) >= 2 and zhang.number not in page
    assert "1/2" in page and "50.00%" in page  # 王建国: one of his two households this month


def test_a_household_not_linked_is_refused_on_the_form(county, world, client_for):
    client = client_for(county, "carol")
    erin = household_of(county, "王建国")
    response = client.post(RECORD, record_post(county, world, household=erin.pk))
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(RECORD, record_post(county, world, served_on=future))
    assert response.status_code == 400
    assert not LinkService.objects.exists()


def test_another_village_cannot_record_for_dongling(county, world, client_for):
    client = client_for(county, "oscar")
    page = client.get(SERVICES).content.decode()
    assert "赵强" in page and "王建国" not in page
    response = client.post(RECORD, record_post(county, world))
    assert response.status_code == 400  # 王建国 is no member oscar may choose
    response = client.get(SERVICES, {"member": world.member.pk})
    assert "王建国" not in response.content.decode()
    assert not LinkService.objects.exists()


@pytest.mark.parametrize("persona", ["erin", "grace"])
def test_villagers_and_departments_have_no_service_pages(county, world, client_for, persona):
    client = client_for(county, persona)
    for url in (SERVICES, PLEDGES):
        assert client.get(url).status_code == 403
    assert client.post(RECORD, record_post(county, world)).status_code == 403
    assert (
        client.post(ADD, {"member": world.member.pk, "text": "x", "year": 2026}).status_code == 403
    )
    assert not LinkService.objects.exists() and not MemberPledge.objects.exists()


def test_anonymous_is_sent_to_log_in(county, world, client_for):
    client = client_for(county, None)
    for url in (SERVICES, PLEDGES):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_the_county_sees_villages_first_then_a_villages_members(county, world, client_for):
    client = client_for(county, "alice")
    page = client.get(SERVICES).content.decode()
    assert 'id="village-coverage"' in page and "东岭村" in page and "西溪村" in page
    assert 'id="member-coverage"' not in page
    page = client.get(SERVICES, {"village": "330304001001"}).content.decode()
    assert 'id="member-coverage"' in page and "王建国" in page and "赵强" not in page


def more_members(county, n):
    """`n` members of 东岭村 who each link two households and served one this month."""
    village = county.region("330304001001")
    grid = county.region("330304001001001")
    households = list(Household.objects.filter(region=grid))
    for i in range(n):
        person = Person.objects.create(
            household=households[0], region=grid, name=f"党员{i}", relation="其他"
        )
        member = PartyMember.objects.create(
            person=person, region=village, branch="东岭村党支部", member_class="C"
        )
        member.linked_households.set(households)
        LinkService.objects.create(
            member=member,
            household=households[0],
            served_on=timezone.localdate(),
            note="走访",
            recorded_by=system_actor(),
        )
        MemberPledge.objects.create(
            member=member, year=timezone.localdate().year, text="承诺", created_by=system_actor()
        )


@pytest.mark.parametrize("url", [SERVICES, PLEDGES])
def test_the_pages_do_not_query_per_member(
    county, world, client_for, django_assert_max_num_queries, url
):
    client = client_for(county, "carol")
    params = {"member": world.member.pk} if url == SERVICES else {}

    def count():
        with django_assert_max_num_queries(40) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured.captured_queries)

    few = count()
    more_members(county, 12)
    assert count() == few


# --- pledges -----------------------------------------------------------------------------------


def test_carol_adds_a_pledge_and_marks_it_kept(county, world, client_for):
    client = client_for(county, "carol")
    year = timezone.localdate().year
    page = client.get(PLEDGES).content.decode()
    assert 'id="pledge-form"' in page and "王建国" in page
    response = client.post(ADD, {"member": world.member.pk, "year": year, "text": "帮两户卖茶"})
    assert response.status_code == 302
    pledge = MemberPledge.objects.get()
    assert (pledge.member, pledge.year, pledge.text) == (world.member, year, "帮两户卖茶")
    keep = reverse("evaluations:pledge_keep", args=[pledge.pk])
    response = client.post(keep, {"kept_on": timezone.localdate().isoformat(), "note": "已卖出"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert pledge.kept_on == timezone.localdate()
    page = client.get(response.url).content.decode()
    assert "已卖出" in page and f'id="pledge-{pledge.pk}"' in page


def test_a_wrong_pledge_is_shown_on_the_form(county, world, client_for):
    client = client_for(county, "carol")
    response = client.post(ADD, {"member": world.member.pk, "year": 1999, "text": "承诺"})
    assert response.status_code == 400
    assert not MemberPledge.objects.exists()


def test_another_village_cannot_keep_dongling_pledges(county, world, client_for):
    pledge = MemberPledge.objects.create(
        member=world.member, year=timezone.localdate().year, text="承诺", created_by=system_actor()
    )
    keep = reverse("evaluations:pledge_keep", args=[pledge.pk])
    data = {"kept_on": timezone.localdate().isoformat(), "note": ""}
    assert client_for(county, "oscar").post(keep, data).status_code == 404
    assert (
        client_for(county, "oscar")
        .post(ADD, {"member": world.member.pk, "year": pledge.year, "text": "另一条"})
        .status_code
        == 400
    )
    pledge.refresh_from_db()
    assert pledge.kept_on is None and MemberPledge.objects.count() == 1


# --- the public card ---------------------------------------------------------------------------


def posted_month(world):
    """This month of the sanping scheme, closed and posted."""
    label = label_for("month", timezone.localdate())
    period = period_open(scheme=world.scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period_post(period=period, acting_user=system_actor())


def test_the_public_breakdown_shows_the_members_card_masked(county, world, client_for):
    year = timezone.localdate().year
    kept = MemberPledge.objects.create(
        member=world.member,
        year=year,
        text="帮两户卖茶",
        kept_on=timezone.localdate(),
        created_by=system_actor(),
    )
    MemberPledge.objects.create(
        member=world.member, year=year, text="每月走访联系户", created_by=system_actor()
    )
    period = posted_month(world)
    client = client_for(county, None)
    url = reverse("portal:breakdown", args=[period.pk, world.subject.pk])
    page = client.get(url).content.decode()
    assert 'id="member-card"' in page
    assert "王*国" in page and "王建国" not in page
    assert "东岭村党支部" in page and kept.text in page and "每月走访联系户" in page
    assert 'id="pledges-kept"' in page
    # The posting's list shows no card, and names stay masked there too.
    listing = client.get(reverse("portal:posting", args=[period.pk])).content.decode()
    assert 'id="member-card"' not in listing and "王建国" not in listing


def test_a_village_breakdown_has_no_member_card(county, client_for):
    from kaoping.publishing.tests.fixtures import posted_quarter

    posted = posted_quarter(county)
    subject = Subject.objects.get(kind="village", region__code="330304001001")
    page = client_for(county, None).get(
        reverse("portal:breakdown", args=[posted.period.pk, subject.pk])
    )
    assert page.status_code == 200 and 'id="member-card"' not in page.content.decode()
