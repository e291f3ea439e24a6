"""三长 posts (片长/组长/邻长): appointing them, and a post holder's login seeing only its households.
And the county's household tags: add, rename, take out of use."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import Refused, may
from kaoping.core.errors import KaopingError
from kaoping.people.models import Household, HouseholdPost, HouseholdTag, Person
from kaoping.people.services import (
    book_changes_apply,
    household_post_save,
    household_tag_create,
    household_tag_update,
)

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"


def dongling_households(county) -> list[Household]:
    return list(Household.objects.filter(region__code__startswith=DONGLING).order_by("number"))


@pytest.fixture
def post(county):
    households = dongling_households(county)
    return household_post_save(
        village=county.region(DONGLING),
        person=county.persons["张伟"],
        post="group",
        label="三组",
        households=[households[0], households[2]],
        acting_user=county.users["carol"],
    )


@pytest.fixture
def holder(county, post):
    user = get_user_model().objects.create_user(username="sam", password="pw")
    RoleAssignment.objects.create(
        user=user, role=Role.GRID_MEMBER, region=county.region(DONGLING), household_post=post
    )
    return user


def test_a_post_holder_sees_and_changes_only_the_post_households(county, post, holder):
    households = dongling_households(county)
    assert set(Household.objects.for_user(holder, "people.view")) == {households[0], households[2]}
    assert set(
        Person.objects.for_user(holder, "people.view").values_list("household", flat=True)
    ) == {
        households[0].pk,
        households[2].pk,
    }
    assert may(holder, "people.change", households[2])
    assert not may(holder, "people.change", households[1])
    with pytest.raises(Refused):
        book_changes_apply(
            household=households[1],
            changes=[{"kind": "away", "person": households[1].head}],
            acting_user=holder,
        )
    book_changes_apply(
        household=households[0],
        changes=[
            {
                "kind": "away",
                "person": households[0].members.exclude(pk=households[0].head_id).first(),
            }
        ],
        acting_user=holder,
    )


def test_the_holder_pages_follow_the_post(county, post, holder, client_for):
    client = client_for(county, None)
    client.force_login(holder)
    households = dongling_households(county)
    assert client.get(reverse("people:household", args=[households[0].pk])).status_code == 200
    assert client.get(reverse("people:household", args=[households[1].pk])).status_code == 404


def test_a_post_without_households_grants_nothing(county, post, holder):
    household_post_save(
        village=county.region(DONGLING),
        person=post.person,
        post=post.post,
        households=[],
        household_post=post,
        acting_user=county.users["bob"],
    )
    holder._kaoping_scopes = None
    assert not Household.objects.for_user(holder, "people.view").exists()


def test_a_post_keeps_to_its_village(county):
    xixi = Household.objects.filter(region__code__startswith="330304002001").first()
    with pytest.raises(KaopingError) as refused:
        household_post_save(
            village=county.region(DONGLING),
            person=county.persons["赵强"],  # of 西溪村
            post="area",
            households=[xixi],
            acting_user=county.users["carol"],
        )
    assert set(refused.value.message_dict) == {"person", "households"}
    assert not HouseholdPost.objects.exists()


@pytest.mark.parametrize("name", ["oscar", "clara", "dave", "erin"])
def test_who_may_not_appoint_is_refused(county, name):
    with pytest.raises(Refused):
        household_post_save(
            village=county.region(DONGLING),
            person=county.persons["张伟"],
            post="area",
            households=dongling_households(county)[:1],
            acting_user=county.users[name],
        )
    assert not HouseholdPost.objects.exists()


def test_the_posts_page_appoints(county, client_for):
    households = dongling_households(county)
    client = client_for(county, "carol")
    url = reverse("people:posts", args=[DONGLING])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "person": county.persons["张伟"].pk,
            "post": "neighbour",
            "label": "东头",
            "households": [households[0].pk, households[1].pk],
        },
    )
    assert response.status_code == 302
    post = HouseholdPost.objects.get()
    assert post.households.count() == 2
    edit = reverse("people:post_edit", args=[post.pk])
    assert client.get(edit).status_code == 200
    assert client_for(county, "oscar").get(url).status_code == 404
    assert client_for(county, "clara").get(url).status_code == 403
    assert client_for(county, "oscar").get(edit).status_code == 404


# ─── household tags ───


def test_the_county_adds_renames_and_retires_tags(county):
    alice = county.users["alice"]
    tag = household_tag_create(
        county=county.region("330304"), name="低保", code="DiBao", acting_user=alice
    )
    assert tag.code == "dibao"
    with pytest.raises(KaopingError) as refused:
        household_tag_create(
            county=county.region("330304"), name="低保", code="db2", acting_user=alice
        )
    assert "name" in refused.value.message_dict
    household_tag_update(tag=tag, name="低保户", active=False, acting_user=alice)
    tag.refresh_from_db()
    assert (tag.name, tag.active) == ("低保户", False)
    for name in ("bob", "carol"):
        with pytest.raises(Refused):
            household_tag_create(
                county=county.region("330304"),
                name="监测户",
                code="jc",
                acting_user=county.users[name],
            )
        with pytest.raises(Refused):
            household_tag_update(tag=tag, name="x", active=True, acting_user=county.users[name])
    assert HouseholdTag.objects.count() == 1


def test_the_tag_page(county, client_for):
    client = client_for(county, "alice")
    url = reverse("people:tags")
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "监测户", "code": "jc"}).status_code == 302
    tag = HouseholdTag.objects.get()
    edit = reverse("people:tag_edit", args=[tag.pk])
    assert client.post(edit, {"name": "监测户", "active": ""}).status_code == 302
    assert not HouseholdTag.objects.get().active
    assert client_for(county, "bob").get(url).status_code == 403
    assert client_for(county, "carol").get(edit).status_code == 403
    assert client_for(county, "carol").post(edit, {"name": "改", "active": "on"}).status_code == 403
    assert HouseholdTag.objects.get().name == "监测户"


def test_the_township_creates_the_holder_login_which_sees_only_the_post(county, post, client_for):
    client = client_for(county, "bob")
    edit = reverse("people:post_edit", args=[post.pk])
    assert "13955550000" not in client.get(edit).content.decode()  # 张伟 has his own number
    response = client.post(reverse("people:post_login", args=[post.pk]), {"phone": "13955550000"})
    assert response.status_code == 302 and response.url == reverse("accounts:issued")
    made = get_user_model().objects.get(username="13955550000")
    assignment = made.role_assignments.get()
    assert (assignment.role, assignment.region.code, assignment.household_post) == (
        Role.GRID_MEMBER,
        DONGLING,
        post,
    )
    assert set(Household.objects.for_user(made, "people.view")) == set(post.households.all())
    # A secretary appoints but does not make logins.
    carol = client_for(county, "carol")
    assert (
        carol.post(
            reverse("people:post_login", args=[post.pk]), {"phone": "13955550001"}
        ).status_code
        == 403
    )
    assert not get_user_model().objects.filter(username="13955550001").exists()
