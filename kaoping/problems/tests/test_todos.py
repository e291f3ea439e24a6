"""The problems' to-dos on the home page: what the user's own level holds, and the household's
answers to give."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kaoping.problems.models import Problem
from kaoping.problems.testing import problems_in_each_state
from kaoping.problems.todos import home_todos

pytestmark = pytest.mark.django_db


def titles(county, who):
    return [(t.title, t.urgent) for t in home_todos(county.users[who])]


def test_each_persona_sees_its_own_work(county):
    made = problems_in_each_state(county)
    Problem.objects.filter(pk=made["open"].pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    assert titles(county, "dave") == [("1 件民情事项已超期", True)]
    assert titles(county, "carol") == [("1 件民情事项待办理", False)]
    assert titles(county, "bob") == []  # nothing is held by the township
    assert titles(county, "erin") == [("2 件事已办理，请您确认", True)]
    assert titles(county, "oscar") == []
    assert titles(county, "grace") == []


def test_a_few_queries_whatever_the_number_of_problems(county):
    problems_in_each_state(county)
    user = county.users["carol"]
    home_todos(user)  # the user's scopes are cached on it after the first call
    with CaptureQueriesContext(connection) as queries:
        home_todos(user)
    assert len(queries) <= 2
