import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.inbox.models import Message
from kaoping.inbox.services import messages_deliver

pytestmark = pytest.mark.django_db


def deliver(users, title="通知", **extra):
    messages_deliver(
        recipients=users, title=title, kind="notice", acting_user=system_actor(), **extra
    )
    return Message.objects.filter(title=title).order_by("pk")


def test_list_shows_only_my_messages_newest_first(county, client_for):
    carol, bob = county.users["carol"], county.users["bob"]
    deliver([carol], "第一条")
    deliver([carol], "第二条")
    deliver([bob], "给乡镇的")
    page = client_for(county, "carol").get(reverse("inbox:list")).content.decode()
    assert page.index("第二条") < page.index("第一条")
    assert "给乡镇的" not in page
    assert "2 条未读" in page


def test_opening_marks_read_and_only_the_recipient_opens(county, client_for):
    carol = county.users["carol"]
    message = deliver([carol], body="正文在此", url="/outcomes/").get()
    url = reverse("inbox:detail", args=[message.pk])
    for other in ("bob", "alice", "oscar", "erin"):
        assert client_for(county, other).get(url).status_code == 404
        assert client_for(county, other).post(url).status_code == 404
    message.refresh_from_db()
    assert message.read_at is None
    response = client_for(county, "carol").get(url)
    assert response.status_code == 200
    assert "正文在此" in response.content.decode()
    message.refresh_from_db()
    assert message.read_at is not None
    assert client_for(county, None).get(url).status_code == 302  # to the login


def test_a_link_off_the_site_is_not_offered(county, client_for):
    message = deliver([county.users["carol"]], url="https://evil.example/").get()
    page = client_for(county, "carol").get(reverse("inbox:detail", args=[message.pk]))
    assert "evil.example" not in page.content.decode()


def test_attachment_downloads_for_the_recipient_alone(county, client_for):
    message = deliver([county.users["carol"]], attachment=("月报.csv", b"a,b\n1,2\n")).get()
    url = reverse("inbox:attachment", args=[message.pk])
    response = client_for(county, "carol").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
    assert "attachment" in response["Content-Disposition"]
    assert client_for(county, "bob").get(url).status_code == 404
    plain = deliver([county.users["carol"]], "无附件").get()
    assert (
        client_for(county, "carol").get(reverse("inbox:attachment", args=[plain.pk])).status_code
        == 404
    )


def test_badge_counts_unread(county, client_for):
    client = client_for(county, "carol")
    assert client.get(reverse("inbox:badge")).content == b""
    deliver([county.users["carol"]])
    assert b">1<" in client.get(reverse("inbox:badge")).content


def test_list_queries_do_not_grow(county, client_for):
    carol = county.users["carol"]
    client = client_for(county, "carol")
    deliver([carol], "一")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("inbox:list"))
    for n in range(20):
        deliver([carol], f"多{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("inbox:list"))
    assert len(many) == len(few)
