"""Meeting sign-in's pages: the list and its form, a meeting's page with its QR code and the
polled count, 补签, the close, and the public page a member's phone opens (`m/<code>/`)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from kaoping.evaluations.models import Attendance, Meeting
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.people.models import PartyMember

pytestmark = pytest.mark.django_db

LIST = reverse("evaluations:meetings")


@pytest.fixture
def world(county):
    return evaluation_world(county)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def url(name, meeting):
    return reverse(f"evaluations:{name}", args=[meeting.pk])


def sign_in_url(meeting):
    return reverse("evaluations:sign_in", args=[meeting.code])


def member(county, name):
    return PartyMember.objects.get(person=county.persons[name])


# ─── access ───


@pytest.mark.parametrize(
    ("persona", "status"),
    [("carol", 200), ("clara", 200), ("bob", 200), ("alice", 200), ("oscar", 404), ("dave", 404)],
)
def test_who_opens_a_meeting_page(county, world, client_for, persona, status):
    client = client_for(county, persona)
    assert client.get(url("meeting", world.meeting)).status_code == status
    assert client.get(url("meeting_attendance", world.meeting)).status_code == status


@pytest.mark.parametrize("persona", ["erin", "grace", "dave"])
def test_who_may_not_run_meetings_is_refused(county, world, client_for, persona):
    client = client_for(county, persona)
    assert client.get(LIST).status_code == 403
    assert client.get(url("meeting", world.meeting)).status_code in (403, 404)
    for name in ("meeting_close", "meeting_sign_in_for"):
        assert client.post(url(name, world.meeting), {}).status_code in (403, 404)
    assert Meeting.objects.get(pk=world.meeting.pk).open


def test_anonymous_is_sent_to_log_in(county, world, client_for):
    client = client_for(county, None)
    response = client.get(url("meeting", world.meeting))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(url("meeting_close", world.meeting))
    assert response.status_code == 302
    assert Meeting.objects.get(pk=world.meeting.pk).open


def test_oscar_cannot_close_or_sign_in_for_another_village(county, world, client_for):
    client = client_for(county, "oscar")
    zhang = member(county, "张伟")
    assert client.post(url("meeting_close", world.meeting)).status_code == 404
    response = client.post(url("meeting_sign_in_for", world.meeting), {"member": zhang.pk})
    assert response.status_code == 404
    assert Meeting.objects.get(pk=world.meeting.pk).open
    assert not Attendance.objects.exists()
    assert world.meeting.title not in client.get(LIST).content.decode()


# ─── the list and opening ───


def test_carol_opens_a_meeting_from_the_list(county, world, client_for):
    client = client_for(county, "carol")
    response = client.get(LIST)
    form = response.context["form"]
    assert [label for _key, label in form.fields["branch"].choices] == ["东岭村党支部"]
    assert [label for _key, label in form.fields["item"].choices] == ["参加主题党日(扫码签到)"]
    assert world.meeting.title in response.content.decode()
    response = client.post(
        LIST,
        {
            "branch": form.fields["branch"].choices[0][0],
            "item": form.fields["item"].choices[0][0],
            "title": "组织生活会",
            "held_on": timezone.localdate().isoformat(),
        },
    )
    meeting = Meeting.objects.get(title="组织生活会")
    assert response.status_code == 302 and response["Location"] == url("meeting", meeting)
    assert meeting.branch == "东岭村党支部" and meeting.item_code == "HD01"
    assert meeting.opened_by == county.users["carol"]


def test_a_refused_opening_shows_the_reason_on_its_field(county, world, client_for):
    client = client_for(county, "carol")
    form = client.get(LIST).context["form"]
    response = client.post(
        LIST,
        {
            "branch": form.fields["branch"].choices[0][0],
            "item": form.fields["item"].choices[0][0],
            "title": "明天的会",
            "held_on": (timezone.localdate() + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "in the future" in response.context["form"].errors["held_on"][0]
    assert not Meeting.objects.filter(title="明天的会").exists()


def test_the_list_counts_who_signed_in(county, world, client_for):
    Attendance.objects.create(meeting=world.meeting, member=member(county, "张伟"))
    response = client_for(county, "carol").get(LIST)
    (row,) = response.context["meetings"]
    assert (row.signed_in, row.expected) == (1, 4)
    assert "1 / 4" in response.content.decode()


def test_the_list_takes_as_many_queries_for_many_meetings(
    county, world, client_for, django_assert_max_num_queries
):
    client = client_for(county, "carol")
    client.get(LIST)  # sessions, translations, the first time
    with django_assert_max_num_queries(30) as few:
        client.get(LIST)
    one = len(few.captured_queries)
    for n in range(12):
        meeting = Meeting.objects.create(
            village=world.meeting.village,
            branch=world.meeting.branch,
            scheme=world.scheme,
            item_code="HD01",
            title=f"会议{n}",
            held_on=timezone.localdate(),
            code=f"MTEST1{n:03d}",
            opened_by=county.users["carol"],
        )
        Attendance.objects.create(meeting=meeting, member=member(county, "张伟"))
    with django_assert_max_num_queries(one):
        response = client.get(LIST)
    assert len(response.context["meetings"]) == 13


# ─── a meeting's page ───


def test_the_meeting_page_shows_the_qr_code_of_the_public_link(county, world, client_for):
    response = client_for(county, "carol").get(url("meeting", world.meeting))
    html = response.content.decode()
    assert "<svg" in html and 'class="segno"' in html
    assert f"http://testserver/m/{world.meeting.code}/" in html
    assert 'hx-trigger="every 5s"' in html
    assert response.context["expected"] == 4
    assert [m.person.name for m in response.context["sign_in_for"].members.values()] == sorted(
        ["王建国", "李秀英", "张伟", "刘芳"]
    )


def test_the_attendance_fragment_counts_and_masks(county, world, client_for):
    Attendance.objects.create(meeting=world.meeting, member=member(county, "张伟"))
    response = client_for(county, "carol").get(url("meeting_attendance", world.meeting))
    html = response.content.decode()
    assert '<b id="signed-in-count">1</b>' in html
    assert "张*" in html and "张伟" not in html
    assert "<html" not in html  # a fragment, swapped into the page


def test_the_meeting_page_takes_as_many_queries_for_many_attendees(
    county, world, client_for, django_assert_max_num_queries
):
    client = client_for(county, "carol")
    Attendance.objects.create(meeting=world.meeting, member=member(county, "张伟"))
    client.get(url("meeting", world.meeting))
    with django_assert_max_num_queries(40) as few:
        client.get(url("meeting", world.meeting))
    # Read now: Django empties its query log when the next request starts.
    one = len(few.captured_queries)
    for name in ("李秀英", "刘芳", "王建国"):
        Attendance.objects.create(meeting=world.meeting, member=member(county, name))
    with django_assert_max_num_queries(one):
        client.get(url("meeting", world.meeting))
    client.post(url("meeting_close", world.meeting))
    with django_assert_max_num_queries(one):
        response = client.get(url("meeting", world.meeting))
    assert len(response.context["attendances"]) == 4


def test_carol_signs_in_a_member_without_a_phone(county, world, client_for):
    client = client_for(county, "carol")
    liu = member(county, "刘芳")
    response = client.post(url("meeting_sign_in_for", world.meeting), {"member": liu.pk})
    assert response.status_code == 302
    assert Attendance.objects.get().member == liu
    # Signed in already: not offered again, and a second post changes nothing.
    response = client.post(url("meeting_sign_in_for", world.meeting), {"member": liu.pk})
    assert response.status_code == 302
    assert Attendance.objects.count() == 1


def test_carol_closes_and_sees_the_absent_and_the_entries(county, world, client_for):
    client = client_for(county, "carol")
    Attendance.objects.create(meeting=world.meeting, member=member(county, "张伟"))
    response = client.post(url("meeting_close", world.meeting))
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert entry.status == EntryStatus.APPROVED and entry.subject.person.name == "张伟"
    response = client.get(url("meeting", world.meeting))
    html = response.content.decode()
    assert [m.person.name for m in response.context["absent"]] == sorted(
        ["王建国", "李秀英", "刘芳"]
    )
    assert 'id="absent"' in html and "刘*" in html
    assert 'id="entries"' in html and 'class="segno"' not in html
    assert "every 5s" not in html  # nothing to poll once closed
    # Closing again writes nothing.
    client.post(url("meeting_close", world.meeting))
    assert Entry.objects.count() == 1


def test_a_close_the_ledger_refuses_leaves_the_meeting_open(county, world, client_for):
    from django.db import transaction

    from kaoping.ledger.services import ledger_seal

    Attendance.objects.create(meeting=world.meeting, member=member(county, "张伟"))
    day = world.meeting.held_on
    with transaction.atomic():
        ledger_seal(scheme=world.scheme, start=day, end=day, reason="period:test")
    client = client_for(county, "carol")
    response = client.post(url("meeting_close", world.meeting), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("could not be counted" in m and "finalised" in m for m in messages)
    assert Meeting.objects.get(pk=world.meeting.pk).open
    assert not Entry.objects.exists()


# ─── the public sign-in page ───


def test_a_member_signs_in_without_logging_in(county, world, client_for):
    client = client_for(county, None)
    response = client.get(sign_in_url(world.meeting))
    assert response.status_code == 200 and world.meeting.title in response.content.decode()
    response = client.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0003"})
    assert response.status_code == 200
    assert "Signed in: 张*" in response.content.decode()
    assert Attendance.objects.get().member == member(county, "张伟")


def test_a_wrong_tail_is_refused_with_what_to_do(county, world, client_for):
    client = client_for(county, None)
    response = client.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0004"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "No party member of 东岭村党支部" in html and "ask the secretary" in html
    assert not Attendance.objects.exists()


def test_after_the_next_day_the_pages_say_sign_in_has_ended(county, world, client_for):
    day = timezone.localdate() - timedelta(days=2)
    Meeting.objects.filter(pk=world.meeting.pk).update(held_on=day)
    public = client_for(county, None)
    for response in (
        public.get(sign_in_url(world.meeting)),
        public.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0003"}),
    ):
        html = response.content.decode()
        assert 'id="sign-in-ended"' in html and 'id="sign-in"' not in html
        assert (day + timedelta(days=1)).isoformat() in html
    assert not Attendance.objects.exists()
    page = client_for(county, "carol").get(url("meeting", world.meeting))
    html = page.content.decode()
    assert 'id="sign-in-ended"' in html and 'id="close-ended"' in html
    assert 'id="qr"' not in html and 'id="close-meeting"' not in html


def test_a_tail_of_letters_is_a_field_error(county, world, client_for):
    response = client_for(county, None).post(
        sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "abcd"}
    )
    assert response.status_code == 400
    assert "phone_tail" in response.context["form"].errors


def test_a_second_sign_in_changes_nothing(county, world, client_for):
    client = client_for(county, None)
    for _n in range(2):
        response = client.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0003"})
        assert response.status_code == 200
    assert Attendance.objects.count() == 1


@override_settings(MEETING_SIGN_IN_MAX_PER_ADDRESS=2)
def test_too_many_wrong_sign_ins_are_answered_429(county, world, client_for):
    client = client_for(county, None)
    for tail in ("1111", "2222"):
        assert (
            client.post(
                sign_in_url(world.meeting), {"name": "张伟", "phone_tail": tail}
            ).status_code
            == 400
        )
    response = client.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0003"})
    assert response.status_code == 429
    assert "ask the secretary to sign you in" in response.content.decode()
    assert not Attendance.objects.exists()


def test_an_unknown_code_is_404(county, world, client_for):
    client = client_for(county, None)
    assert client.get(reverse("evaluations:sign_in", args=["NOSUCHCODE"])).status_code == 404
    assert (
        client.post(
            reverse("evaluations:sign_in", args=["NOSUCHCODE"]),
            {"name": "张伟", "phone_tail": "0003"},
        ).status_code
        == 404
    )


def test_a_closed_meeting_says_so(county, world, client_for):
    Meeting.objects.filter(pk=world.meeting.pk).update(open=False, closed_at=timezone.now())
    client = client_for(county, None)
    response = client.get(sign_in_url(world.meeting))
    assert response.status_code == 200
    assert "has closed" in response.content.decode()
    response = client.post(sign_in_url(world.meeting), {"name": "张伟", "phone_tail": "0003"})
    assert "has closed" in response.content.decode()
    assert not Attendance.objects.exists()
