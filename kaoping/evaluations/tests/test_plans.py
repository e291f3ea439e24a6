"""Loading evaluation plans: the file's problems at their lines, the checks against the scheme, new
versions that keep what rounds were opened with, and the plans' pages."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.core.models import AuditLog
from kaoping.evaluations import plans
from kaoping.evaluations.models import Plan, PlanVersion
from kaoping.evaluations.spec import spec_of
from kaoping.evaluations.testing import PLAN_YAML, SCHEME_FILE, evaluation_world
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "evaluations" / "jinggang-2026.yaml"
# The world's plan under another code: a new plan, so no round holds any of its campaigns.
NEW = PLAN_YAML.replace("code: test-sanping", "code: new-plan")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(county):
    return evaluation_world(county)


def problems(county, text: str, code: str = "330304") -> list[str]:
    with pytest.raises(KaopingError) as exc:
        plans.plan_read(region=county.region(code), text=text, filename="p.yaml")
    return exc.value.message_dict["file"]


def load(county, text: str, user: str = "alice", code: str = "330304", **kwargs) -> Plan:
    return plans.plan_load(
        region=county.region(code),
        text=text,
        filename="p.yaml",
        acting_user=county.users[user],
        **kwargs,
    )


# -- plan_read: every problem at its line -------------------------------------------------------


def test_an_unknown_scheme_is_reported_at_its_line_with_the_schemes_there(county, world):
    found = problems(county, NEW.replace("scheme: sanping", "scheme: sanpin"))
    assert len(found) == 1
    assert found[0].startswith("p.yaml, line 3")
    assert "sanpin" in found[0] and "sanping 党员“三评”积分" in found[0]


def test_a_scheme_of_no_region_above_is_unknown(county, world):
    """The county's scheme does not exist for a plan of another county."""
    from kaoping.regions.models import Region

    other = Region.objects.create(code="330305", name="另一区", level="county")
    with pytest.raises(KaopingError) as exc:
        plans.plan_read(region=other, text=NEW, filename="p.yaml")
    assert "line 3" in exc.value.message_dict["file"][0]


def test_an_item_that_is_not_quantity_names_its_rule(county, world):
    found = problems(county, NEW.replace("item: PY02", "item: HD01"))
    assert len(found) == 1
    assert found[0].startswith("p.yaml, line 17") and "（masses 群众测评）" in found[0]
    assert "HD01" in found[0] and "rule: count" in found[0] and "rule: quantity" in found[0]


def test_an_item_the_scheme_lacks_lists_the_items_that_take_a_number(county, world):
    found = problems(county, NEW.replace("item: PY03", "item: PY09"))
    assert len(found) == 1
    assert "line 24" in found[0] and "PY09" in found[0]
    assert "PY01 支部考评" in found[0] and "HD01" not in found[0]


def test_a_cadence_without_a_self_part_names_the_roll_ups(county, world):
    found = problems(county, NEW.replace("cadence: quarter", "cadence: year"))
    assert len(found) == 1
    assert "line 16" in found[0] and "yearly" in found[0]
    # The scheme's roll-ups, so the county sees where a `self` part would go.
    assert "quarterly(self)" in found[0] and "half-yearly(self)" in found[0]


def test_the_scheme_s_own_cadence_and_its_self_roll_ups_are_accepted(county, world):
    spec, scheme = plans.plan_read(region=county.region("330304"), text=NEW, filename="p.yaml")
    assert scheme == world.scheme
    assert [str(c.cadence) for c in spec.campaigns] == ["month", "quarter", "half_year", "month"]


def test_masses_linked_on_a_village_scheme_is_refused(county, world):
    village_scheme = (
        SCHEME_FILE.read_text(encoding="utf-8")
        .replace("code: sanping", "code: sanping-village")
        .replace("subject_kind: party_member", "subject_kind: village")
    )
    scheme_load(
        text=village_scheme,
        filename="v.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    found = problems(county, NEW.replace("scheme: sanping", "scheme: sanping-village"))
    # masses_linked is line 15; the branch_members campaign of a village scheme stays allowed.
    assert len(found) == 1
    assert "line 15" in found[0] and "masses_linked" in found[0] and "village" in found[0]


def test_a_scale_of_one_level_and_a_mark_that_is_text_are_refused_at_their_lines(county, world):
    found = problems(
        county,
        NEW.replace("{满意: 5, 基本满意: 3, 不满意: 1}", "{满意: 5}").replace(
            "max: 5}", "max: 五}"
        ),
    )
    assert len(found) == 2
    assert "line 19" in found[0] and "at least two levels" in found[0]
    assert "line 28" in found[1] and "五" in found[1]


def test_a_track_no_subject_has_is_refused(county, world):
    found = problems(county, NEW.replace("item: PY02", "item: PY02\n    tracks: [C, Z]"))
    assert len(found) == 1
    assert "line 18" in found[0] and "Z" in found[0] and "(tracks: A、C)" in found[0]


def test_a_code_longer_than_the_round_keeps_is_refused(county, world):
    found = problems(county, NEW.replace("code: masses", "code: " + "m" * 41))
    assert len(found) == 1 and "line 13" in found[0] and "40" in found[0]


def test_the_worked_example_loads_for_the_county(county, world):
    plan = load(county, EXAMPLE.read_text(encoding="utf-8"))
    spec = spec_of(plan.spec)
    assert plan.code == "jinggang-2026" and plan.scheme == world.scheme
    assert [(c.code, str(c.raters), str(c.cadence), c.item) for c in spec.campaigns] == [
        ("branch", "branch_committee", "month", "PY01"),
        ("masses", "masses_linked", "quarter", "PY02"),
        ("mutual", "branch_members", "half_year", "PY03"),
        ("panel", "panel", "month", "PY01"),
    ]


# -- plan_load ----------------------------------------------------------------------------------


def test_loading_makes_a_plan_with_its_first_version_and_an_audit_row(county, world):
    plan = load(county, NEW)
    assert (plan.code, plan.version, plan.region.code) == ("new-plan", 1, "330304")
    version = PlanVersion.objects.get(plan=plan)
    assert version.number == 1 and version.source == NEW and version.filename == "p.yaml"
    row = AuditLog.objects.get(action="evaluation.plan.loaded", object_id=str(plan.pk))
    assert row.after["version"] == 1 and row.after["scheme"] == "sanping"


def test_a_township_loads_its_own_plan(county, world):
    plan = load(county, NEW, user="bob", code="330304001")
    assert plan.region.code == "330304001"


def test_a_plan_belongs_to_a_county_or_a_township(county, world):
    with pytest.raises(KaopingError) as exc:
        load(county, NEW, code="330304001001")
    assert "region" in exc.value.message_dict
    assert not Plan.objects.filter(code="new-plan").exists()


def test_the_same_code_again_is_the_next_version(county, world):
    text = PLAN_YAML.replace("name: 支部考评", "name: 支部月度考评")
    plan = load(county, text)
    assert plan.pk == world.plan.pk
    world.plan.refresh_from_db()
    assert world.plan.version == 2
    assert spec_of(world.plan.spec).campaign("branch").name == "支部月度考评"
    assert list(world.plan.versions.values_list("number", flat=True)) == [2, 1]


def test_a_version_that_drops_a_campaign_with_rounds_is_refused_naming_it(county, world):
    start = PLAN_YAML.index("  - code: panel")
    with pytest.raises(KaopingError) as exc:
        load(county, PLAN_YAML[:start])
    found = exc.value.message_dict["file"]
    assert len(found) == 1 and "panel 集中评比" in found[0] and "rounds" in found[0]
    world.plan.refresh_from_db()
    assert world.plan.version == 1 and world.plan.versions.count() == 1


def test_a_version_that_changes_who_rates_or_the_item_of_a_campaign_with_rounds_is_refused(
    county, world
):
    text = PLAN_YAML.replace("raters: masses_linked", "raters: masses_village").replace(
        "item: PY03", "item: PY01"
    )
    with pytest.raises(KaopingError) as exc:
        load(county, text)
    found = exc.value.message_dict["file"]
    assert len(found) == 2
    assert "line 15" in found[0] and "masses_linked" in found[0] and "masses 群众测评" in found[0]
    assert "line 24" in found[1] and "PY03" in found[1]


def test_a_campaign_without_rounds_may_be_dropped(county, world):
    world.panel.delete()
    start = PLAN_YAML.index("  - code: panel")
    plan = load(county, PLAN_YAML[:start])
    assert [c.code for c in spec_of(plan.spec).campaigns] == ["branch", "masses", "mutual"]


def test_a_version_from_the_plan_s_page_keeps_its_code(county, world):
    with pytest.raises(KaopingError) as exc:
        load(county, NEW, plan=world.plan)
    assert "line 1" in exc.value.message_dict["file"][0]
    assert not Plan.objects.filter(code="new-plan").exists()


def test_someone_without_manage_is_refused_and_nothing_is_written(county, world):
    with pytest.raises(Refused):
        load(county, NEW, user="carol", code="330304")
    with pytest.raises(Refused):
        load(county, NEW, user="bob", code="330304")  # a township's staff: not the county's
    assert not Plan.objects.filter(code="new-plan").exists()


# -- pages --------------------------------------------------------------------------------------


def test_alice_sees_the_plans_and_a_plan_s_campaigns(county, world, client_for):
    client = client_for(county, "alice")
    page = client.get(reverse("evaluations:plans")).content.decode()
    assert world.plan.name in page and 'id="load-plan"' in page
    page = client.get(reverse("evaluations:plan", args=[world.plan.pk])).content.decode()
    assert 'id="campaigns"' in page and 'id="load-version"' in page
    # Names, not codes: the item's name, the pool's label, the scale's levels.
    assert "群众测评" in page and "the member&#x27;s linked households" in page
    assert "满意 5 · 基本满意 3 · 不满意 1" in page and "0–5" in page
    assert "result × 20 points" in page and "mean without the highest and the lowest" in page
    version = world.plan.versions.get()
    page = client.get(reverse("evaluations:plan_version", args=[version.pk])).content.decode()
    assert "masses_linked" in page
    page = client.get(reverse("evaluations:plan_format")).content.decode()
    assert 'id="format-doc"' in page and "branch_committee" in page


def test_carol_may_not_open_the_plans_pages(county, world, client_for):
    client = client_for(county, "carol")
    version = world.plan.versions.get()
    for url in (
        reverse("evaluations:plans"),
        reverse("evaluations:plan", args=[world.plan.pk]),
        reverse("evaluations:plan_version", args=[version.pk]),
        reverse("evaluations:plan_format"),
        reverse("evaluations:plan_example"),
    ):
        assert client.get(url).status_code in (403, 404), url
    response = client.post(reverse("evaluations:plans"), {"text": NEW})
    assert response.status_code == 403
    assert not Plan.objects.filter(code="new-plan").exists()


def test_bob_reads_the_county_s_plan_but_loads_only_his_township_s(county, world, client_for):
    client = client_for(county, "bob")
    url = reverse("evaluations:plan", args=[world.plan.pk])
    page = client.get(url).content.decode()
    assert 'id="campaigns"' in page and 'id="load-version"' not in page
    assert client.post(url, {"text": PLAN_YAML}).status_code == 403
    page = client.get(reverse("evaluations:plans")).content.decode()
    assert "东岭街道" in page and "瓯海区</option>" not in page


def test_a_mistake_is_shown_with_its_line_and_a_fixed_file_lands_on_the_plan(
    county, world, client_for
):
    client = client_for(county, "alice")
    url = reverse("evaluations:plans")
    county_id = county.region("330304").pk
    wrong = NEW.replace("item: PY02", "item: HD01")
    page = client.post(url, {"region": county_id, "text": wrong}).content.decode()
    assert 'id="plan-problems"' in page and "line 17" in page
    assert not Plan.objects.filter(code="new-plan").exists()
    response = client.post(url, {"region": county_id, "text": NEW})
    plan = Plan.objects.get(code="new-plan")
    assert response.status_code == 302
    assert response.url == reverse("evaluations:plan", args=[plan.pk])


def test_a_new_version_from_the_plan_s_page(county, world, client_for):
    client = client_for(county, "alice")
    url = reverse("evaluations:plan", args=[world.plan.pk])
    response = client.post(url, {"text": PLAN_YAML.replace("min_ballots: 3", "min_ballots: 4", 1)})
    assert response.status_code == 302
    world.plan.refresh_from_db()
    assert world.plan.version == 2
    assert spec_of(world.plan.spec).campaign("mutual").min_ballots == 4


def test_the_list_reads_a_fixed_number_of_queries(
    county, world, client_for, django_assert_max_num_queries
):
    client = client_for(county, "alice")
    url = reverse("evaluations:plans")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(5):
        load(county, NEW.replace("code: new-plan", f"code: plan-{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    for plan in Plan.objects.all():
        assert reverse("evaluations:plan", args=[plan.pk]) in page
