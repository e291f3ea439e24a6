"""The problems pages: scoped list with counts, detail with the allowed actions, raise, my page."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.inbox.models import Message
from kaoping.problems.models import Problem, Status
from kaoping.problems.testing import problems_in_each_state

pytestmark = pytest.mark.django_db


def erin_household(county):
    return county.users["erin"].role_assignments.get().household


def test_dave_raises_a_problem_once_however_often_the_form_is_sent(client_for, county):
    client = client_for(county, "dave")
    household = erin_household(county)
    url = reverse("problems:raise", args=[household.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert household.number in page.content.decode()
    form = {
        "category": "environment",
        "title": "垃圾桶满了没人清",
        "description": "三天没清运",
        "idempotency_key": uuid.uuid4().hex,
    }
    first = client.post(url, form)
    problem = Problem.objects.get()
    assert first.status_code == 302 and first.url == reverse("problems:detail", args=[problem.pk])
    client.post(url, form)
    assert Problem.objects.count() == 1
    assert problem.raised_via == "staff"


def test_a_raise_form_names_the_field_it_needs(client_for, county):
    client = client_for(county, "dave")
    url = reverse("problems:raise", args=[erin_household(county).pk])
    page = client.post(url, {"category": "environment", "idempotency_key": uuid.uuid4().hex})
    assert page.status_code == 200
    assert page.context["form"].errors["title"]
    assert Problem.objects.count() == 0


def test_the_raise_page_is_out_of_scope_elsewhere(client_for, county):
    outside = next(h for h in county.households.values() if h.region.code.startswith("330304002"))
    assert (
        client_for(county, "dave").get(reverse("problems:raise", args=[outside.pk])).status_code
        == 404
    )
    # erin raises on her own page, never for another household.
    other = next(h for h in county.households.values() if h != erin_household(county))
    assert (
        client_for(county, "erin").get(reverse("problems:raise", args=[other.pk])).status_code
        == 404
    )


def test_the_list_counts_and_filters_and_its_queries_do_not_grow(client_for, county):
    made = problems_in_each_state(county)
    client = client_for(county, "bob")
    page = client.get(reverse("problems:list"))
    assert page.status_code == 200
    assert page.context["counts"]["total"] == 4
    assert page.context["counts"]["resolved"] == 2
    resolved = client.get(reverse("problems:list") + "?status=resolved")
    assert {p.pk for p in resolved.context["page"]} == {
        made["resolved"].pk,
        made["unanswered"].pk,
    }
    village = client.get(reverse("problems:list") + "?level=village")
    assert [p.pk for p in village.context["page"]] == [made["village"].pk]
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("problems:list"))
    problems_in_each_state_again(county)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("problems:list"))
    assert len(more) == len(few)
    # Out of scope: oscar sees none of them, and none of their pages.
    oscar = client_for(county, "oscar")
    assert oscar.get(reverse("problems:list")).context["counts"]["total"] == 0
    assert oscar.get(reverse("problems:detail", args=[made["open"].pk])).status_code == 404


def problems_in_each_state_again(county):
    from kaoping.accounts.scoping import system_actor
    from kaoping.problems import services

    household = erin_household(county)
    for n in range(5):
        services.problem_raise(
            household=household,
            category="other",
            title=f"又一个 {n}",
            idempotency_key=f"again:{n}",
            acting_user=system_actor(),
        )


def test_the_detail_offers_what_the_user_may_do(client_for, county):
    made = problems_in_each_state(county)
    dave = client_for(county, "dave")
    page = dave.get(reverse("problems:detail", args=[made["open"].pk]))
    assert page.context["actions"].handle and page.context["actions"].assign_to == "village"
    assert 'id="resolve-form"' in page.content.decode()
    # The village holds this one: dave reads it and may do nothing.
    page = dave.get(reverse("problems:detail", args=[made["village"].pk]))
    assert not page.context["actions"].any
    assert 'id="resolve-form"' not in page.content.decode()
    refused = dave.post(
        reverse("problems:resolve", args=[made["village"].pk]), {"resolution": "好了"}
    )
    assert refused.status_code == 403
    assert Problem.objects.get(pk=made["village"].pk).status == Status.OPEN
    # The township may close what the household left unanswered.
    bob = client_for(county, "bob")
    page = bob.get(reverse("problems:detail", args=[made["unanswered"].pk]))
    assert page.context["actions"].close_unconfirmed
    done = bob.post(reverse("problems:close", args=[made["unanswered"].pk]), {"note": "电话未接"})
    assert done.status_code == 302
    assert Problem.objects.get(pk=made["unanswered"].pk).status == Status.CLOSED


def test_the_carol_hands_on_and_bob_resolves(client_for, county):
    made = problems_in_each_state(county)
    carol = client_for(county, "carol")
    carol.post(reverse("problems:assign", args=[made["village"].pk]), {"note": "村里办不了"})
    problem = Problem.objects.get(pk=made["village"].pk)
    assert problem.level == "township"
    assert Message.objects.filter(recipient=county.users["bob"], kind="problems.assigned").exists()
    bob = client_for(county, "bob")
    empty = bob.post(reverse("problems:resolve", args=[problem.pk]), {"resolution": ""})
    assert empty.status_code == 400 and empty.context["resolve_form"].errors
    bob.post(reverse("problems:resolve", args=[problem.pk]), {"resolution": "镇里协调解决"})
    assert Problem.objects.get(pk=problem.pk).status == Status.RESOLVED


def test_erin_answers_on_her_own_page(client_for, county):
    made = problems_in_each_state(county)
    erin = client_for(county, "erin")
    page = erin.get(reverse("problems:mine"))
    assert page.status_code == 200
    assert {p.pk for p in page.context["problems"]} == {p.pk for p in made.values()}
    assert f'id="confirm-{made["resolved"].pk}"' in page.content.decode()
    # Not solved needs a reason: nothing changes, the reason is asked for.
    erin.post(
        reverse("problems:confirm", args=[made["resolved"].pk]), {"satisfied": "no", "rating": "2"}
    )
    assert Problem.objects.get(pk=made["resolved"].pk).status == Status.RESOLVED
    done = erin.post(
        reverse("problems:confirm", args=[made["resolved"].pk]),
        {"satisfied": "yes", "rating": "5", "comment": "谢谢"},
    )
    assert done.status_code == 302
    problem = Problem.objects.get(pk=made["resolved"].pk)
    assert (problem.status, problem.satisfaction) == (Status.CLOSED, 5)
    # She raises one herself, from the same page.
    erin.post(
        reverse("problems:mine"),
        {"category": "relief", "title": "老人看病难", "idempotency_key": uuid.uuid4().hex},
    )
    assert Problem.objects.filter(raised_via="household", title="老人看病难").count() == 1
    # Staff have no such page; the villager has no list of others' problems.
    assert client_for(county, "dave").get(reverse("problems:mine")).status_code == 403
    assert (
        client_for(county, "bob")
        .post(
            reverse("problems:confirm", args=[made["unanswered"].pk]),
            {"satisfied": "yes", "rating": "5"},
        )
        .status_code
        == 403
    )


def test_the_villagers_points_page_links_to_her_problems(client_for, county):
    page = client_for(county, "erin").get(reverse("store:my_points"))
    assert reverse("problems:mine") in page.content.decode()


def test_anonymous_is_sent_to_log_in(client_for, county):
    made = problems_in_each_state(county)
    client = client_for(county, None)
    for url in (
        reverse("problems:list"),
        reverse("problems:detail", args=[made["open"].pk]),
        reverse("problems:mine"),
    ):
        assert client.get(url).status_code == 302


def test_a_problem_raised_on_a_visit_links_back_to_it(client_for, county):
    from django.utils import timezone

    from kaoping.grid.models import Visit

    household = erin_household(county)
    visit = Visit.objects.create(
        household=household,
        grid=household.region,
        visitor=county.users["dave"],
        visited_on=timezone.localdate(),
        idempotency_key="v1",
    )
    client = client_for(county, "dave")
    url = reverse("problems:raise", args=[household.pk]) + f"?visit={visit.pk}"
    assert client.get(url).status_code == 200
    client.post(
        url,
        {"category": "relief", "title": "低保咨询", "idempotency_key": uuid.uuid4().hex},
    )
    problem = Problem.objects.get()
    assert (problem.visit, problem.raised_via) == (visit, "visit")
    page = client.get(reverse("problems:detail", args=[problem.pk]))
    assert reverse("grid:visit", args=[visit.pk]) in page.content.decode()
    # The household sees its problem, not the staff's visit page.
    mine = client_for(county, "erin").get(reverse("problems:detail", args=[problem.pk]))
    assert reverse("grid:visit", args=[visit.pk]) not in mine.content.decode()
    # A visit elsewhere cannot be named.
    assert (
        client.get(reverse("problems:raise", args=[household.pk]) + "?visit=x").status_code == 404
    )
