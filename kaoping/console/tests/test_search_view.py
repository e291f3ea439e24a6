import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def search(county, client_for, username, q):
    return client_for(county, username).get(reverse("console:search"), {"q": q}).context["results"]


def test_search_by_name_pinyin_initials_and_code(county, client_for):
    assert [r.name for r in search(county, client_for, "alice", "东岭")["regions"]][:2] == [
        "东岭街道",
        "东岭村",
    ]
    assert "东岭村" in [r.name for r in search(county, client_for, "alice", "dlc")["regions"]]
    assert [r.code for r in search(county, client_for, "alice", "330304002001")["regions"]] == [
        "330304002001",
        "330304002001001",
    ]
    assert [p.name for p in search(county, client_for, "alice", "wjg")["persons"]] == ["王建国"]


def test_search_stays_inside_the_scope(county, client_for):
    results = search(county, client_for, "oscar", "王建国")
    assert results["persons"] == []
    assert [p.name for p in search(county, client_for, "oscar", "赵强")["persons"]] == ["赵强"]


def test_search_results_show_masked_id_numbers(county, client_for):
    html = (
        client_for(county, "carol").get(reverse("console:search"), {"q": "王建国"}).content.decode()
    )
    person = county.persons["王建国"]
    assert person.id_number not in html and person.masked_id_number in html


def test_anonymous_search_goes_to_login(county, client_for):
    assert client_for(county, None).get(reverse("console:search"), {"q": "王"}).status_code == 302


def names(results, key="persons"):
    return [r.name for r in results[key]]


@pytest.mark.parametrize(
    "typed",
    [
        "wangjianguo",  # full pinyin
        "wang jian guo",  # with spaces
        "WangJianGuo",
        "wangjiang",  # the start of it
        "wangjainguo",  # two letters swapped
        "wangjianuo",  # one left out
        "wangjiangguo",  # one too many
        "wangjianfuo",  # one wrong
        "王健国",  # another character of the same sound
        "wanjianguo",  # an/ang: alike in sound
    ],
)
def test_a_person_is_found_by_full_pinyin_a_typo_or_the_sound(county, client_for, typed):
    assert names(search(county, client_for, "alice", typed))[0] == "王建国"


def test_regions_are_found_by_full_pinyin_and_with_a_typo(county, client_for):
    for typed in ("dongling", "donglnig"):
        found = names(search(county, client_for, "alice", typed), "regions")
        assert set(found[:2]) == {"东岭街道", "东岭村"}, typed
    for typed in ("dong ling cun", "dongligncun"):
        found = names(search(county, client_for, "alice", typed), "regions")
        assert found == ["东岭村", "东岭村第1网格", "东岭村第2网格"], typed
    assert names(search(county, client_for, "alice", "xixizhen"), "regions") == ["西溪镇"]


def test_what_was_typed_comes_before_what_only_sounds_alike(county, client_for):
    from kaoping.core.pinyin import initials
    from kaoping.people.models import Person

    # 刘芳 is spelled liufang; n and l sound alike, so "niufang" finds her too, after 牛芳.
    assert names(search(county, client_for, "alice", "niufang")) == ["刘芳"]
    grid = county.region("330304001001001")
    Person.objects.create(region=grid, name="牛芳", initials=initials("牛芳"))
    assert names(search(county, client_for, "alice", "niufang")) == ["牛芳", "刘芳"]
    assert names(search(county, client_for, "alice", "liufang")) == ["刘芳", "牛芳"]
    # What the name contains ranks before any sound: 刘 first, then 牛芳 (n/l) for "刘".
    assert names(search(county, client_for, "alice", "刘芳")) == ["刘芳", "牛芳"]
    assert names(search(county, client_for, "alice", "zhangwei"))[0] == "张伟"


def test_short_or_unrelated_queries_do_not_match_by_sound(county, client_for):
    assert names(search(county, client_for, "alice", "qqqqqq")) == []
    assert names(search(county, client_for, "alice", "zhaoqiagn")) == ["赵强"]
    # Two letters typed: the initials only, no sound or typo.
    assert set(names(search(county, client_for, "alice", "zx"))) == {"张小红", "赵小红"}
    assert names(search(county, client_for, "alice", "zw")) == ["张伟"]


def test_sound_matches_stay_inside_the_scope(county, client_for):
    assert names(search(county, client_for, "oscar", "wangjianguo")) == []
    assert names(search(county, client_for, "oscar", "王健国")) == []
    assert names(search(county, client_for, "oscar", "zhaoqiang")) == ["赵强"]
    assert names(search(county, client_for, "oscar", "dongling"), "regions") == []
    assert names(search(county, client_for, "carol", "zhaoqiang")) == []


def test_results_link_to_party_member_and_cadre_profiles(county, client_for):
    from kaoping.people.models import Subject
    from kaoping.people.services import subjects_sync

    subjects_sync(kind="cadre")
    subjects_sync(kind="party_member")
    wang = county.persons["王建国"]
    html = (
        client_for(county, "carol")
        .get(reverse("console:search"), {"q": "wangjianguo"})
        .content.decode()
    )
    member = Subject.objects.get(kind="party_member", person=wang)
    cadre = Subject.objects.get(kind="cadre", person=wang)
    assert reverse("periods:subject", args=[member.pk]) in html
    assert reverse("periods:subject", args=[cadre.pk]) in html
    assert "党员（A类）" in html and "东岭村" in html
    # oscar sees his own secretary's profile, never 王建国's.
    html = client_for(county, "oscar").get(reverse("console:search"), {"q": "赵"}).content.decode()
    zhao = Subject.objects.get(kind="cadre", person=county.persons["赵强"])
    assert reverse("periods:subject", args=[zhao.pk]) in html
    assert reverse("periods:subject", args=[cadre.pk]) not in html


def test_without_a_profile_the_post_links_to_the_village(county, client_for):
    html = (
        client_for(county, "alice").get(reverse("console:search"), {"q": "王建国"}).content.decode()
    )
    assert reverse("console:region", args=["330304001001"]) in html


def test_search_query_count_does_not_grow_with_results(
    county, client_for, django_assert_max_num_queries
):
    client = client_for(county, "alice")
    client.get(reverse("console:search"), {"q": "x"})  # session and caches warm
    with django_assert_max_num_queries(14):
        response = client.get(reverse("console:search"), {"q": "zhang"})
    assert names(response.context["results"]) == ["张伟", "张小红"]
    with django_assert_max_num_queries(14):
        response = client.get(reverse("console:search"), {"q": "王健国"})
    assert names(response.context["results"]) == ["王建国"]
