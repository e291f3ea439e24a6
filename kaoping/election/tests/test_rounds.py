"""Opening a round from its configuration file, loading new versions, closing it."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.election import rounds
from kaoping.election.models import (
    ElectionRound,
    PersonSheet,
    RoundStatus,
    RoundVersion,
    VillageFile,
)
from kaoping.election.selectors import round_current, rounds_for
from kaoping.election.spec import RoundSpec, spec_of
from kaoping.election.testing import ROUND_YAML, election_world
from kaoping.people.models import Cadre, PartyMember, Person
from kaoping.regions.models import Department, Region
from kaoping.schemes.loader import SchemeError, load_yaml_model

OUHAI = Path(__file__).resolve().parents[3] / "elections" / "ouhai-2026.yaml"
OTHER = ROUND_YAML.replace("code: test-2026", "code: other-2026")


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def ew(county):
    return election_world(county)


def messages(exc: KaopingError) -> list[str]:
    return [m for ms in exc.value.message_dict.values() for m in ms]


def open_(county, text=OTHER, user="alice"):
    return rounds.round_open(
        county=county.region("330304"),
        text=text,
        filename="r.yaml",
        acting_user=county.users[user],
    )


# -- the loader --------------------------------------------------------------------------------


def load_problems(text: str) -> list[str]:
    with pytest.raises(SchemeError) as exc:
        load_yaml_model(text, RoundSpec, "r.yaml")
    return [str(p) for p in exc.value.problems]


def test_dates_are_read_as_days():
    spec = load_yaml_model(ROUND_YAML, RoundSpec, "r.yaml")
    assert str(spec.stages[0].due) == "2026-08-31"


def test_a_bad_date_is_reported_at_its_line():
    problems = load_problems(ROUND_YAML.replace("due: 2026-09-30", "due: 2026-13-30"))
    assert len(problems) == 1
    assert problems[0].startswith("r.yaml 第 5 行，stages 第 2 项（analysis 班子分析）")
    assert "2026-13-30" in problems[0]


def test_a_code_used_twice_is_reported_at_the_second_entry():
    problems = load_problems(ROUND_YAML.replace("code: analysis", "code: survey"))
    twice = _("%(where)s: the code %(code)s is used twice") % {"where": "stages", "code": "survey"}
    assert problems == [f"r.yaml 第 5 行：{twice}"]


def test_an_unknown_threshold_is_reported_at_its_key():
    text = (
        ROUND_YAML
        + "thresholds:\n  talk_coverage: {green: 100, amber: 60}\n  speed: {green: 1, amber: 1}\n"
    )
    (problem,) = load_problems(text)
    assert problem.startswith("r.yaml 第 20 行：thresholds") and "speed" in problem


def test_a_threshold_out_of_order_names_its_key():
    (problem,) = load_problems(
        ROUND_YAML + "thresholds:\n  talk_coverage: {green: 50, amber: 60}\n"
    )
    assert problem.startswith("r.yaml 第 19 行，thresholds › talk_coverage：")


def test_an_unknown_key_and_a_duplicate_key_are_reported_at_their_lines():
    (problem,) = load_problems(ROUND_YAML.replace("name: 班子分析", "name: 班子分析, colour: red"))
    assert problem.startswith("r.yaml 第 5 行，stages 第 2 项（analysis 班子分析）")
    assert "colour" in problem
    (problem,) = load_problems(ROUND_YAML.replace("name: 瓯海区", "name: x\nname: 瓯海区"))
    assert problem.startswith("r.yaml 第 3 行") and "第 2 行" in problem


def test_an_empty_file_and_a_list_are_refused():
    assert load_problems("") == ["r.yaml 第 1 行：文件是空的"]
    assert len(load_problems("- a\n")) == 1


def test_the_shipped_ouhai_round_loads():
    spec = load_yaml_model(OUHAI.read_text(encoding="utf-8"), RoundSpec, OUHAI.name)
    assert [s.name for s in spec.stages] == [
        "调研摸底", "班子分析", "人选酝酿", "资格联审", "选民登记", "提名", "选举日", "结果备案"
    ]  # fmt: skip
    assert [s.election_day for s in spec.stages].index(True) == 6
    vetting = next(s for s in spec.stages if s.name == "资格联审")
    election_day = next(s for s in spec.stages if s.election_day)
    # The demo is mid-course on 2026-12-06: after the qualification check, before the vote.
    assert str(vetting.due) < "2026-12-06" < str(election_day.due)
    assert {c.department for c in spec.conditions} == {
        "discipline",
        "political_legal",
        "public_security",
        "petition",
    }
    assert [c.name for c in spec.campaigns] == ["清底", "清风", "清障", "清账", "清仓", "清心"]
    assert len(spec.team_roles) == 6
    assert (spec.talks.party_members, spec.talks.representatives) == (100, 60)


# -- opening a round ---------------------------------------------------------------------------


def test_opening_a_round_makes_every_village_file_and_every_incumbent_sheet(county):
    Department.objects.create(county=county.region("330304"), code="D02", name="区信访局")
    round_ = open_(county)
    assert (round_.code, round_.version, round_.status) == ("other-2026", 1, RoundStatus.OPEN)
    assert spec_of(round_).stages[0].name == "调研摸底"
    version = RoundVersion.objects.get(round=round_)
    assert (version.number, version.source, version.loaded_by) == (1, OTHER, county.users["alice"])
    files = {f.village.code: f for f in VillageFile.objects.filter(round=round_)}
    assert set(files) == {"330304001001", "330304001002", "330304002001"}
    assert (
        files["330304001001"].party_members_total
        == PartyMember.objects.filter(region__code="330304001001").count()
    )
    sheets = {s.person.name: s for s in PersonSheet.objects.filter(round=round_)}
    assert set(sheets) == {"王建国", "赵强"}
    assert sheets["王建国"].is_incumbent and sheets["王建国"].one_shoulder_intended
    assert sheets["王建国"].village.code == "330304001001"
    assert not sheets["赵强"].one_shoulder_intended
    assert sheets["赵强"].added_by == county.users["alice"]
    assert AuditLog.objects.filter(
        action="election.round.opened", object_id=str(round_.pk)
    ).exists()


def test_opening_takes_the_same_queries_for_many_villages_and_cadres(county):
    Department.objects.create(county=county.region("330304"), code="D02", name="区信访局")
    open_(county)  # the first call fills the caches (scopes, content types)
    with CaptureQueriesContext(connection) as small:
        open_(county, OTHER.replace("other-2026", "second-2026"))
    township = county.region("330304001")
    for n in range(30):
        village = Region.objects.create(
            code=f"330304001{100 + n}", name=f"村{n}", level="village", parent=township
        )
        person = Person.objects.create(name=f"干部{n}", region=village)
        Cadre.objects.create(person=person, region=village, post="secretary")
        PartyMember.objects.create(person=person, region=village, branch="支部", member_class="A")
    with CaptureQueriesContext(connection) as large:
        open_(county, OTHER.replace("other-2026", "third-2026"))
    assert len(large) == len(small)
    assert VillageFile.objects.filter(round__code="third-2026").count() == 33
    assert PersonSheet.objects.filter(round__code="third-2026").count() == 32


def test_an_unknown_department_is_reported_at_its_line_and_nothing_is_written(county):
    with pytest.raises(KaopingError) as exc:
        open_(county)  # the file names D02, which the county has not created
    (message,) = messages(exc)
    assert message.startswith(
        "r.yaml 第 10 行，conditions 第 2 项（petition_agitation 煽动组织群体上访）"
    )
    assert "D02" in message and "D01" in message
    assert not ElectionRound.objects.exists()


def test_a_second_round_with_the_same_code_is_refused(ew, county):
    with pytest.raises(KaopingError) as exc:
        open_(county, ROUND_YAML)
    assert "test-2026" in messages(exc)[0]
    assert ElectionRound.objects.count() == 1


def test_a_round_belongs_to_a_county(county):
    with pytest.raises(KaopingError):
        rounds.round_open(
            county=county.region("330304001"),
            text=OTHER,
            filename="r.yaml",
            acting_user=county.users["alice"],
        )


# -- versions ----------------------------------------------------------------------------------


def load(ew, county, text):
    return rounds.round_config_load(
        round=ew.round, text=text, filename="v2.yaml", acting_user=county.users["alice"]
    )


def test_a_new_version_replaces_the_configuration(ew, county):
    text = ROUND_YAML.replace("representatives: 60", "representatives: 70")
    version = load(ew, county, text)
    ew.round.refresh_from_db()
    assert (version.number, ew.round.version) == (2, 2)
    assert spec_of(ew.round).talks.representatives == 70
    assert list(ew.round.versions.values_list("number", flat=True)) == [2, 1]
    assert AuditLog.objects.filter(action="election.round.config_loaded").count() == 1


def test_a_version_keeps_the_code(ew, county):
    with pytest.raises(KaopingError) as exc:
        load(ew, county, ROUND_YAML.replace("code: test-2026", "code: renamed"))
    assert messages(exc)[0].startswith("v2.yaml 第 1 行")
    assert "test-2026" in messages(exc)[0]
    assert ew.round.versions.count() == 1


@pytest.mark.parametrize(
    "line, what",
    [
        ("  - {code: survey, name: 调研摸底, due: 2026-08-31}\n", "survey"),  # 东岭村 reached it
        ("  - {code: qingzhang, name: 清账}\n", "qingzhang"),  # an issue is listed under it
        ("  - {code: criminal, name: 受过刑事处罚, department: D01}\n", "criminal"),  # answered
    ],
)
def test_what_rows_use_cannot_be_removed(ew, county, line, what):
    with pytest.raises(KaopingError) as exc:
        load(ew, county, ROUND_YAML.replace(line, ""))
    assert what in " ".join(messages(exc))
    ew.round.refresh_from_db()
    assert ew.round.version == 1


def test_what_no_row_uses_can_be_removed(ew, county):
    load(ew, county, ROUND_YAML.replace("  - {code: police, name: 民警}\n", ""))
    ew.round.refresh_from_db()
    assert [r.code for r in spec_of(ew.round).team_roles] == ["district_leader"]


def test_a_closed_round_is_read_only(ew, county):
    rounds.round_close(round=ew.round, acting_user=county.users["alice"])
    ew.round.refresh_from_db()
    assert ew.round.status == RoundStatus.CLOSED
    with pytest.raises(KaopingError):
        load(ew, county, ROUND_YAML)
    with pytest.raises(KaopingError):
        rounds.round_close(round=ew.round, acting_user=county.users["alice"])


# -- selectors ---------------------------------------------------------------------------------


def test_the_current_round_is_seen_from_the_county_and_below(ew, county):
    for username in ("alice", "bob", "grace"):
        assert round_current(county.users[username]) == ew.round
    assert round_current(county.users["erin"]) is None
    assert list(rounds_for(county.users["carol"])) == []
    rounds.round_close(round=ew.round, acting_user=county.users["alice"])
    assert round_current(county.users["alice"]) is None
    assert list(rounds_for(county.users["alice"])) == [ew.round]


# -- pages -------------------------------------------------------------------------------------


def test_the_rounds_page_opens_a_round_for_the_county_admin_only(county, client_for):
    Department.objects.create(county=county.region("330304"), code="D02", name="区信访局")
    url = reverse("election:rounds")
    bob = client_for(county, "bob")
    assert bob.get(url).status_code == 200  # township staff see the rounds
    assert bob.post(url, {"text": OTHER}).status_code == 403
    assert not ElectionRound.objects.exists()
    alice = client_for(county, "alice")
    page = alice.post(url, {"text": OTHER.replace("department: D02", "department: D09")})
    assert page.status_code == 200
    assert "第 10 行" in page.content.decode() and not ElectionRound.objects.exists()
    done = alice.post(url, {"text": OTHER})
    round_ = ElectionRound.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "election:round", args=[round_.pk]
    )
    assert client_for(county, "erin").get(url).status_code == 403


def test_the_round_page_shows_the_configuration_and_loads_versions(ew, county, client_for):
    alice = client_for(county, "alice")
    url = reverse("election:round", args=[ew.round.pk])
    page = alice.get(url).content.decode()
    for text in (
        "调研摸底",
        "2026-12-20",
        "受过刑事处罚",
        "区委政法委",
        "区信访局",
        "清账",
        "民警",
    ):
        assert text in page
    # Names only: no stage, condition or department code under them.
    for code in ("survey", "election_day", "criminal", "petition_agitation", "D01", "D02"):
        assert code not in page, code
    # The election day's stage is named 选举日: no badge saying it again.
    assert page.count("选举日") == 1
    assert f'href="{reverse("election:format")}"' in page
    # A township's staff see the round but cannot load a version.
    assert client_for(county, "bob").post(url, {"text": ROUND_YAML}).status_code == 403
    alice = client_for(county, "alice")  # one test client: log alice back in
    alice.post(url, {"text": ROUND_YAML.replace("representatives: 60", "representatives: 70")})
    ew.round.refresh_from_db()
    assert ew.round.version == 2
    version = ew.round.versions.get(number=2)
    text = alice.get(reverse("election:round_version", args=[version.pk])).content.decode()
    assert "representatives: 70" in text
    assert client_for(county, "carol").get(url).status_code == 403  # no election.view


def test_closing_a_round_from_its_page(ew, county, client_for):
    url = reverse("election:round_close", args=[ew.round.pk])
    assert client_for(county, "bob").post(url).status_code == 403
    ew.round.refresh_from_db()
    assert ew.round.status == RoundStatus.OPEN
    client_for(county, "alice").post(url)
    ew.round.refresh_from_db()
    assert ew.round.status == RoundStatus.CLOSED


def test_the_example_file_downloads(county, client_for):
    response = client_for(county, "alice").get(reverse("election:round_example"))
    assert b"".join(response.streaming_content) == OUHAI.read_bytes()


@pytest.mark.parametrize("username", ["bob", "grace"])
def test_township_and_department_logins_see_the_round_read_only(ew, county, client_for, username):
    client = client_for(county, username)
    listing = client.get(reverse("election:rounds")).content.decode()
    assert ew.round.name in listing and _("No election round has been opened yet.") not in listing
    assert 'id="open-round"' not in listing
    page = client.get(reverse("election:round", args=[ew.round.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "受过刑事处罚" in body and "区委政法委" in body
    assert 'id="load-version"' not in body and 'id="close-round"' not in body
    version = ew.round.versions.get()
    assert client.get(reverse("election:round_version", args=[version.pk])).status_code == 200
    close = reverse("election:round_close", args=[ew.round.pk])
    assert client.post(close).status_code == 403
    ew.round.refresh_from_db()
    assert ew.round.status == RoundStatus.OPEN and ew.round.versions.count() == 1
    assert not AuditLog.objects.filter(action__startswith="election.round").exists()


def test_the_format_page_renders_docs_election_md(county, client_for):
    url = reverse("election:format")
    page = client_for(county, "bob").get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert '<h2 id="7-检查与报错">' in body and "资格联审" in body
    assert client_for(county, "carol").get(url).status_code == 403
    assert client_for(county, None).get(url).status_code == 302
    refused = client_for(county, "alice").post(reverse("election:rounds"), {"text": "code: [x"})
    assert f'href="{url}#7-检查与报错"' in refused.content.decode()
