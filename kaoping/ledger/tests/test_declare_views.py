"""A household declares a good deed (/my/declare/); evidence files by persona."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.core.errors import KaopingError
from kaoping.ledger.models import Entry, EntrySource, EntryStatus, Evidence
from kaoping.ledger.services import entry_record
from kaoping.ledger.tests.declare_fixture import (
    household_subject,
    image_bytes,
    load_household_scheme,
    photo,
    upload,
)
from kaoping.people.models import Subject

pytestmark = pytest.mark.django_db

URL = "/my/declare/"


@pytest.fixture
def scheme(county):
    return load_household_scheme(county)


def form(item="test-household:GY01", **overrides):
    data = {
        "item": item,
        "occurred_on": timezone.localdate().isoformat(),
        "note": "在村口捡到钱包，交还失主",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def post(client, data, photo_file=None):
    data = dict(data)
    if photo_file is not None:
        data["photo"] = photo_file
    return client.post(URL, data)


def test_the_form_lists_only_declarable_items_grouped_by_list(scheme, client_for, county):
    html = client_for(county, "erin").get(URL).content.decode()
    assert "拾金不昧" in html and "见义勇为" in html and "捐款捐物" in html
    assert "庭院整洁" not in html  # collected by grid members, not declared
    assert '<optgroup label="公益美德">' in html
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    assert 'data-unit="百元"' in html and 'data-photo="required"' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert 'name="idempotency_key"' in html and 'enctype="multipart/form-data"' in html


def test_the_form_costs_a_fixed_number_of_queries(
    scheme, client_for, county, django_assert_max_num_queries
):
    client = client_for(county, "erin")
    with django_assert_max_num_queries(7):  # session, user, roles, subject, scheme, version, nodes
        assert client.get(URL).status_code == 200


def test_declaring_with_a_photo_records_one_submitted_entry(scheme, client_for, county):
    erin = county.users["erin"]
    subject = household_subject(erin)
    client = client_for(county, "erin")
    response = post(client, form(), photo("钱包.jpg"))
    assert response.status_code == 302
    assert response["Location"] == reverse("periods:subject", args=[subject.pk])
    entry = Entry.objects.get()
    assert (entry.subject, entry.item_code, entry.status, entry.source, entry.created_by) == (
        subject,
        "GY01",
        EntryStatus.SUBMITTED,
        EntrySource.DECLARED,
        erin,
    )
    assert entry.quantity == 1 and entry.note == "在村口捡到钱包，交还失主"
    evidence = entry.evidence.get()
    assert (evidence.original_name, evidence.content_type) == ("钱包.jpg", "image/jpeg")
    page = client.get(response["Location"]).content.decode()
    assert "待审核" in page and "已申报" in page


def test_a_per_unit_item_needs_how_many(scheme, client_for, county):
    client = client_for(county, "erin")
    response = post(client, form("test-household:GY05"))
    assert response.status_code == 200 and not Entry.objects.exists()
    assert "百元" in response.content.decode()
    post(client, form("test-household:GY05", quantity="3"))
    entry = Entry.objects.get()
    assert (entry.quantity, entry.points) == (3, 3)


def test_an_item_that_needs_a_photo_is_refused_without_one(scheme, client_for, county):
    response = post(client_for(county, "erin"), form("test-household:GY02"))
    assert response.status_code == 200 and not Entry.objects.exists()
    assert "见义勇为" in response.context["form"].errors["photo"][0]


def test_a_non_declarable_item_is_refused(scheme, client_for, county):
    response = post(client_for(county, "erin"), form("test-household:JS01"), photo())
    assert response.status_code == 200
    assert response.context["form"].errors["item"]
    assert not Entry.objects.exists() and not Evidence.objects.exists()


def test_the_service_refuses_a_non_declarable_item_too(scheme, county):
    erin = county.users["erin"]
    with pytest.raises(KaopingError) as caught:
        entry_record(
            scheme=scheme,
            subject=household_subject(erin),
            item_code="JS01",
            occurred_on=timezone.localdate(),
            note="自己说的",
            acting_user=erin,
            source=EntrySource.DECLARED,
            declared=True,
        )
    assert "庭院整洁" in caught.value.message_dict["item_code"][0]


def test_a_double_tap_records_once(scheme, client_for, county):
    client = client_for(county, "erin")
    data = form()
    first = post(client, data, photo())
    second = post(client, data, photo())
    assert first.status_code == second.status_code == 302
    assert Entry.objects.count() == 1 and Evidence.objects.count() == 1


def test_the_idempotency_key_belongs_to_the_user(scheme, client_for, county):
    """Someone else's key does not return their entry: it is a fresh declaration."""
    data = form()
    post(client_for(county, "erin"), data)
    other = get_user_model().objects.create_user("frank", password="pw")
    RoleAssignment.objects.create(
        user=other,
        role=Role.VILLAGER,
        region=household_subject(county.users["erin"]).region,
        household=household_subject(county.users["erin"]).household,
    )
    client = client_for(county, None)
    client.force_login(other)
    post(client, data)
    assert Entry.objects.count() == 2


def test_a_bad_file_is_refused_next_to_the_photo_field(scheme, client_for, county):
    response = post(
        client_for(county, "erin"), form(), upload(b"MZ" + bytes(300), "app.exe", "image/jpeg")
    )
    assert response.status_code == 200
    assert "app.exe" in response.context["form"].errors["photo"][0]
    assert not Entry.objects.exists() and not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("note", ""),
        ("occurred_on", (timezone.localdate() + timedelta(days=2)).isoformat()),
        ("idempotency_key", "not-a-key"),
    ],
)
def test_form_errors_record_nothing(scheme, client_for, county, field, value):
    response = post(client_for(county, "erin"), form(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Entry.objects.exists()


@pytest.mark.parametrize("username", ["carol", "alice", "dave"])
def test_staff_without_a_villager_role_get_403_and_change_nothing(
    scheme, client_for, county, username
):
    client = client_for(county, username)
    assert client.get(URL).status_code == 403
    assert post(client, form(), photo()).status_code == 403
    assert not Entry.objects.exists() and not Evidence.objects.exists()


def test_anonymous_is_sent_to_log_in(scheme, client_for, county):
    client = client_for(county, None)
    response = post(client, form(), photo())
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Entry.objects.exists()


def test_only_villagers_see_the_menu_link(scheme, client_for, county):
    assert URL in client_for(county, "erin").get("/", follow=True).content.decode()
    assert URL not in client_for(county, "carol").get("/").content.decode()


def test_without_a_declarable_scheme_the_page_says_so(county, client_for):
    response = client_for(county, "erin").get(URL)
    assert response.status_code == 200 and not response.context["has_items"]
    assert 'id="id_item"' not in response.content.decode()


# Evidence files ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def evidence(scheme, county):
    erin = county.users["erin"]
    entry, _created = entry_record(
        scheme=scheme,
        subject=household_subject(erin),
        item_code="GY01",
        occurred_on=timezone.localdate(),
        note="捡到钱包",
        acting_user=erin,
        source=EntrySource.DECLARED,
        evidence=[upload(image_bytes((800, 600)), "钱包.jpg")],
        declared=True,
    )
    return entry.evidence.get()


def file_url(evidence, thumb=False):
    return reverse("ledger:evidence_file", args=[evidence.pk]) + ("?thumb=1" if thumb else "")


@pytest.mark.parametrize("username", ["erin", "carol", "dave", "bob", "alice"])
def test_the_household_and_its_village_see_the_file(evidence, client_for, county, username):
    response = client_for(county, username).get(file_url(evidence))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    with evidence.file.open("rb") as stored:
        assert body == stored.read()
    assert "inline" in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]
    assert evidence.sha256 not in response["Content-Disposition"]


def test_the_thumbnail_is_small(evidence, client_for, county):
    response = client_for(county, "carol").get(file_url(evidence, thumb=True))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert len(b"".join(response.streaming_content)) < evidence.size


@pytest.mark.parametrize("username", ["oscar", "grace"])
def test_other_villages_get_404(evidence, client_for, county, username):
    assert client_for(county, username).get(file_url(evidence)).status_code == 404


def test_another_household_of_the_same_grid_gets_404(evidence, client_for, county):
    erin_household = household_subject(county.users["erin"]).household
    neighbour = next(
        h
        for h in county.households.values()
        if h.region_id == erin_household.region_id and h.pk != erin_household.pk
    )
    frank = get_user_model().objects.create_user("frank", password="pw")
    RoleAssignment.objects.create(
        user=frank, role=Role.VILLAGER, region=neighbour.region, household=neighbour
    )
    client = client_for(county, None)
    client.force_login(frank)
    assert client.get(file_url(evidence)).status_code == 404


def test_anonymous_is_sent_to_log_in_for_a_file(evidence, client_for, county):
    response = client_for(county, None).get(file_url(evidence))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_missing_evidence_row_is_404(evidence, client_for, county):
    url = reverse("ledger:evidence_file", args=[evidence.pk + 100])
    assert client_for(county, "alice").get(url).status_code == 404


def test_media_files_are_not_served_by_url(evidence, client_for, county):
    client = client_for(county, "alice")
    assert client.get(f"/media/{evidence.file.name}").status_code == 404


def test_the_evidence_partial_links_thumbnails_through_the_view(evidence, rf, county):
    from django.template.loader import render_to_string

    entry = Entry.objects.prefetch_related("evidence").get(pk=evidence.entry_id)
    html = render_to_string("ledger/_evidence.html", {"entry": entry})
    assert f'src="{file_url(evidence, thumb=True)}"' in html
    assert evidence.sha256 not in html
    assert "钱包.jpg" in html


def test_a_villager_of_two_households_chooses_one(scheme, client_for, county):
    erin = county.users["erin"]
    own = household_subject(erin)
    other = next(
        s
        for s in Subject.objects.filter(kind="household").exclude(pk=own.pk)
        if s.region_id == own.region_id
    )
    RoleAssignment.objects.create(
        user=erin, role=Role.VILLAGER, region=other.region, household=other.household
    )
    client = client_for(county, "erin")
    assert 'name="subject"' in client.get(URL).content.decode()
    response = post(client, form(subject=str(other.pk)))
    assert response["Location"] == reverse("periods:subject", args=[other.pk])
    assert Entry.objects.get().subject == other
    # A household that is not one's own is not a choice.
    stranger = Subject.objects.filter(kind="household").exclude(region=own.region).first()
    response = post(client, form(subject=str(stranger.pk)))
    assert response.status_code == 200 and response.context["form"].errors["subject"]
    assert Entry.objects.count() == 1
