"""Classes beyond A–F (docs/schemes.md §10 “类别自己的等次和结果运用”, §17 `decisions`): the
worked example closed to its stated grades per class, class-limited consequences, the decision
recorded with who, when and why, its history, and what a re-close and a reopening do to it."""

from datetime import date

import pytest
from django.urls import reverse

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.people.classes import party_member_class_set
from kaoping.people.models import PartyMember, Subject
from kaoping.people.services import subjects_sync
from kaoping.periods.models import Result
from kaoping.periods.services import period_close, period_open, period_reopen
from kaoping.periods.tests.scheme_fixture import docs_example, record
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError
from kaoping.testing import build_small_county

from ..decisions import decision_record
from ..models import Decision, DecisionRecord, Pledge

pytestmark = pytest.mark.django_db

# name → (village, class, [(item, count)])
MEMBERS = {
    "王建国": ("330304001001", "A", [("JC1", 8), ("JC2", 3)]),
    "李秀英": ("330304001001", "正式党员", [("JC1", 6), ("JC2", 1), ("KF1", 1)]),
    "张伟": ("330304001001", "预备党员", [("JC1", 5), ("JC2", 1)]),
    "刘芳": ("330304001001", "预备党员", [("JC1", 6), ("JC2", 2)]),
    "陈明": ("330304001002", "入党积极分子", [("JC1", 5), ("JC2", 1), ("KF1", 1)]),
}


def members(county) -> dict[str, Subject]:
    """The example's party members in their classes, set through the register's service."""
    for name, (village, _cls, _records) in MEMBERS.items():
        PartyMember.objects.get_or_create(
            person=county.persons[name],
            defaults={"region": county.region(village), "branch": "党支部", "member_class": "A"},
        )
    subjects_sync(kind="party_member")
    for name, (_village, cls, _records) in MEMBERS.items():
        member = PartyMember.objects.get(person=county.persons[name])
        party_member_class_set(member=member, member_class=cls, acting_user=county.users["alice"])
    return {
        s.person.name: s
        for s in Subject.objects.filter(kind="party_member").select_related("person")
    }


def close_example(county):
    version, _created = scheme_load(
        text=docs_example("classes-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects = members(county)
    for name, (_village, _cls, records) in MEMBERS.items():
        for item, count in records:
            record(version.scheme, subjects[name], item, str(count), on=date(2026, 6, 1))
    period = period_open(scheme=version.scheme, label="2026", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period, subjects


def test_the_worked_example_grades_each_class_and_opens_the_decision():
    county = build_small_county()
    period, subjects = close_example(county)
    got = {
        r.subject.person.name: (period.version.to_points(r.total), r.grade_code, r.variant)
        for r in Result.objects.filter(period=period).select_related("subject__person")
    }
    assert got == {
        "王建国": (95, "youxiu", ""),
        "李秀英": (55, "buhege", "正式党员"),
        "张伟": (60, "kaocha_buhege", "预备党员"),  # a 正式党员 with 60 is 合格
        "刘芳": (80, "hege", "预备党员"),
        "陈明": (55, "buhege", "入党积极分子"),  # 缺席 is not assessed for this class
    }
    # 帮教 is for 正式党员 only: 陈明, also 不合格, gets none.
    assert list(Pledge.objects.filter(period=period).values_list("subject_id", "list_code")) == [
        (subjects["李秀英"].pk, "bangjiao")
    ]
    decision = Decision.objects.get(period=period)
    assert (decision.subject_id, decision.rule, decision.grade_code) == (
        subjects["张伟"].pk,
        "yubei",
        "kaocha_buhege",
    )
    assert decision.pending and decision.triggered
    assert [o["code"] for o in decision.options] == ["cancel", "extend", "confirm"]
    # Closing again opens nothing new.
    period_close(period=period, acting_user=system_actor())
    assert Decision.objects.filter(period=period).count() == 1


def test_a_decision_is_recorded_with_who_when_and_why_and_changed_only_by_a_new_record():
    county = build_small_county()
    period, subjects = close_example(county)
    decision = Decision.objects.get(period=period)
    bob, carol = county.users["bob"], county.users["carol"]
    with pytest.raises(KaopingError) as refused:
        decision_record(decision=decision, option="extend", reason="  ", acting_user=bob)
    assert "reason" in refused.value.message_dict
    with pytest.raises(KaopingError) as refused:
        decision_record(decision=decision, option="expel", reason="理由", acting_user=bob)
    assert "option" in refused.value.message_dict
    with pytest.raises(Refused):  # the village secretary may read it, not decide
        decision_record(decision=decision, option="extend", reason="理由", acting_user=carol)
    assert not DecisionRecord.objects.exists()

    decided = decision_record(
        decision=decision, option="extend", reason="支部大会决议延长预备期一年", acting_user=bob
    )
    assert (decided.option, decided.option_name, decided.decided_by) == (
        "extend",
        "延长预备期",
        bob,
    )
    assert decided.decided_at is not None
    log = AuditLog.objects.get(action="outcomes.decision.recorded")
    assert log.after["option"] == "extend" and log.actor == bob

    changed = decision_record(
        decision=decided, option="cancel", reason="延长期内仍不合格,取消资格", acting_user=bob
    )
    assert changed.option_name == "取消预备党员资格"
    history = list(DecisionRecord.objects.filter(decision=decision).order_by("id"))
    assert [(r.option, r.reason) for r in history] == [
        ("extend", "支部大会决议延长预备期一年"),
        ("cancel", "延长期内仍不合格,取消资格"),
    ]


def test_reopening_deletes_a_pending_decision_and_keeps_a_recorded_one():
    county = build_small_county()
    period, subjects = close_example(county)
    period_reopen(period=period, reason="更正记分", acting_user=system_actor())
    assert not Decision.objects.filter(period=period).exists()
    period_close(period=period, acting_user=system_actor())
    decision = Decision.objects.get(period=period)
    decision_record(
        decision=decision,
        option="confirm",
        reason="复核后按期转正",
        acting_user=county.users["bob"],
    )
    period_reopen(period=period, reason="再次更正", acting_user=system_actor())
    kept = Decision.objects.get(pk=decision.pk)
    assert (kept.option, kept.triggered) == ("confirm", False)
    period_close(period=period, acting_user=system_actor())
    again = Decision.objects.get(period=period)
    assert (again.pk, again.option, again.triggered) == (decision.pk, "confirm", True)


def test_the_pages_show_and_record_the_decision(client):
    county = build_small_county()
    period, subjects = close_example(county)
    decision = Decision.objects.get(period=period)
    client.force_login(county.users["bob"])
    home = client.get(reverse("console:home"))
    assert reverse("outcomes:decision", args=[decision.pk]) in home.content.decode()
    url = reverse("outcomes:decision", args=[decision.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'id="decision-form"' in page.content.decode()
    refused = client.post(url, {"option": "extend", "reason": ""})
    assert refused.status_code == 200 and Decision.objects.get(pk=decision.pk).pending
    done = client.post(url, {"option": "extend", "reason": "支部大会决议"})
    assert done.status_code == 302
    subject_page = client.get(reverse("periods:subject", args=[subjects["张伟"].pk]))
    text = subject_page.content.decode()
    assert 'data-option="extend"' in text and "支部大会决议" in text and "延长预备期" in text
    listing = client.get(reverse("outcomes:decisions")).content.decode()
    assert "延长预备期" in listing
    # The secretary reads the decision but gets no form, and a post is refused.
    client.force_login(county.users["carol"])
    assert 'id="decision-form"' not in client.get(url).content.decode()
    assert client.post(url, {"option": "cancel", "reason": "x"}).status_code == 403
    assert Decision.objects.get(pk=decision.pk).option == "extend"


def test_classes_are_free_text_checked_for_their_form():
    county = build_small_county()
    member = PartyMember.objects.get(person=county.persons["王建国"])
    subjects_sync(kind="party_member")
    alice = county.users["alice"]
    for bad in ("", "   ", "x" * 33, "预备\u200b党员", "预备\n党员"):
        with pytest.raises(KaopingError):
            party_member_class_set(member=member, member_class=bad, acting_user=alice)
    party_member_class_set(member=member, member_class="入党积极分子", acting_user=alice)
    assert PartyMember.objects.get(pk=member.pk).member_class == "入党积极分子"
    assert Subject.objects.get(kind="party_member", person=member.person).track == "入党积极分子"
    assert PartyMember.objects.get(pk=member.pk).get_member_class_display() == "入党积极分子"


def test_the_edit_page_sets_a_members_class(client):
    county = build_small_county()
    person = county.persons["王建国"]
    subjects_sync(kind="party_member")
    client.force_login(county.users["bob"])
    url = reverse("people:person_edit", args=[person.pk])
    page = client.get(url).content.decode()
    assert 'list="member-classes"' in page and '<option value="F">' in page
    data = {"name": person.name, "phone": person.phone, "relation": person.relation}
    client.post(url, {**data, "member_class": "预备党员"})
    assert Subject.objects.get(kind="party_member", person=person).track == "预备党员"
    # A person who is no party member has no class field.
    other = county.persons["李秀英"]
    assert (
        'name="member_class"'
        not in client.get(reverse("people:person_edit", args=[other.pk])).content.decode()
    )


BAD = """
code: bad-classes
version: 1
name: 类别写错
subject_kind: party_member
cadence: year
tree:
  - {code: P, name: 得分, rule: count, points: 1}
grades:
  - {code: hege, name: 合格, min: 60, min_inclusive: true}
  - {code: yb, name: 预备不合格, max: 70, max_inclusive: false, variants: [预备党员]}
  - {code: buhege, name: 不合格, max: 60, max_inclusive: false, variants: [预备]}
variants:
  预备党员: {name: 预备党员}
consequences:
  decisions:
    - code: d
      name: 处理
      grades: [yb, nope]
      variants: [积极分子]
      options:
        - {code: a, name: 甲}
        - {code: a, name: 乙}
"""


def test_wrong_classes_grades_and_options_are_refused_at_their_lines():
    with pytest.raises(SchemeError) as error:
        load_scheme_text(BAD, "bad.yaml")
    text = str(error.value)
    lines = {line.split("，", 1)[0] for line in text.splitlines()}
    # yb is listed after 合格, which it overlaps; 预备 is no variant; nope is no grade; 积极分子 is
    # no variant; option a twice.
    assert lines == {f"bad.yaml 第 {n} 行" for n in (11, 12, 19, 20, 23)}
