"""年度双拥工作计划: targets against what the unit's subtree did in the year, the overview, writing a plan."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.constants import ActivityType
from activities.models import Activity
from units.models import LeadingGroup, UnitPlan
from units.plan_services import plan_save

TODAY = datetime.datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _activity(unit, kind, day, **counts):
    """An activity as the log keeps it (nothing given, so the denormalized totals are zero)."""
    return Activity.objects.create(
        unit=unit, type=kind, start_date=day, occasion_year=day.year, title=f"{unit.name}{kind}", **counts
    )


def _plan(unit, year, targets, user, text="全年计划"):
    return plan_save(
        unit=unit,
        year=year,
        text=text,
        targets=[{"metric": metric, "target": target} for metric, target in targets],
        saved_by=user,
    )


def _row(html, metric):
    """Return (target, done) as the page shows them in the row of a metric."""
    match = re.search(
        rf'data-metric="{re.escape(metric)}">.*?class="text-end plan-target">(\d+)<'
        r'.*?class="text-end plan-done">(\d+)<',
        html,
        re.S,
    )
    assert match, f"no row for {metric}"
    return int(match.group(1)), int(match.group(2))


def test_plan_counts_the_subtree_in_that_year_only(client, office, township, village, other_township):
    _plan(township, 2025, [("type:meeting", 2), ("count:boards", 6), ("type:visit", 1)], office)
    _activity(township, ActivityType.MEETING, datetime.date(2025, 3, 2))
    _activity(village, ActivityType.MEETING, datetime.date(2025, 11, 20))
    _activity(other_township, ActivityType.MEETING, datetime.date(2025, 4, 1))
    _activity(township, ActivityType.MEETING, datetime.date(2024, 12, 31))
    _activity(township, ActivityType.MEETING, datetime.date(2026, 1, 1))
    _activity(village, ActivityType.PUBLICITY, datetime.date(2025, 5, 4), boards=4)
    _activity(township, ActivityType.DEFENSE_EDUCATION, datetime.date(2025, 9, 20), boards=1)
    _activity(other_township, ActivityType.PUBLICITY, datetime.date(2025, 5, 4), boards=9)

    client.force_login(office)
    html = client.get(reverse("units:plan", args=[township.pk, 2025])).content.decode()

    assert _row(html, "type:meeting") == (2, 2)
    assert _row(html, "count:boards") == (6, 5)
    assert _row(html, "type:visit") == (1, 0)
    # (100 + 83 + 0) / 3: each row's share, capped at 100, averaged.
    assert 'id="plan-completion">61%' in html


def test_a_village_plan_counts_only_the_village(client, office, township, village):
    _plan(village, 2025, [("type:meeting", 1)], office)
    _activity(township, ActivityType.MEETING, datetime.date(2025, 3, 2))
    client.force_login(office)
    html = client.get(reverse("units:plan", args=[village.pk, 2025])).content.decode()
    assert _row(html, "type:meeting") == (1, 0)


def test_each_count_field_adds_up_and_each_type_counts_activities(client, office, township):
    _plan(township, 2025, [("count:info_items", 24), ("count:enlist_final", 3), ("type:publicity", 2)], office)
    _activity(township, ActivityType.INFORMATION, datetime.date(2025, 1, 10), info_items=2)
    _activity(township, ActivityType.PUBLICITY, datetime.date(2025, 2, 10), info_items=3, boards=2)
    _activity(township, ActivityType.CONSCRIPTION, datetime.date(2025, 8, 10), enlist_final=4)
    client.force_login(office)
    html = client.get(reverse("units:plan", args=[township.pk, 2025])).content.decode()
    assert _row(html, "count:info_items") == (24, 5)
    assert _row(html, "count:enlist_final") == (3, 4)
    assert _row(html, "type:publicity") == (2, 1)


def test_overview_puts_the_lagging_units_first_and_lists_units_without_a_plan(
    client, office, township, other_township, bureau, village, military_unit
):
    _plan(township, 2026, [("type:meeting", 2)], office)
    _plan(other_township, 2026, [("type:meeting", 2)], office)
    _activity(township, ActivityType.MEETING, datetime.date(2026, 3, 1))
    _activity(township, ActivityType.MEETING, datetime.date(2026, 6, 1))
    LeadingGroup.objects.create(unit=village)

    client.force_login(office)
    html = client.get(reverse("units:plans"), {"year": 2026}).content.decode()

    table = html[html.index('id="plan-table"') :]
    assert table.index(f'data-unit="{other_township.pk}"') < table.index(f'data-unit="{township.pk}"')
    assert re.search(r'id="plans-count">2<', html)
    assert re.search(r'id="plans-reached">1<', html)
    assert re.search(r'id="plans-lagging">1<', html)
    missing = html[html.index('id="plans-missing-list"') :]
    assert "示例县规划局" in missing and "示例县" in missing
    assert "溧东镇" not in missing and "雅灰乡" not in missing
    # Villages and military units keep no plan of their own.
    assert "东村" not in missing and "人武部" not in missing


def test_liaison_sees_the_plans_of_their_township_only(client, office, liaison, township, village, other_township):
    _plan(village, 2026, [("type:meeting", 1)], office)
    _plan(other_township, 2026, [("type:meeting", 1)], office)
    client.force_login(liaison)
    html = client.get(reverse("units:plans")).content.decode()
    assert "东村" in html
    assert "雅灰乡" not in html
    assert client.get(reverse("units:plan", args=[other_township.pk, 2026])).status_code == 404


def test_liaison_writes_a_plan_for_a_village_of_their_township(client, liaison, township, village):
    client.force_login(liaison)
    url = reverse("units:plan_edit", args=[village.pk, 2026])
    response = client.post(
        url,
        {
            "text": "一、指导思想……",
            "targets-TOTAL_FORMS": "3",
            "targets-INITIAL_FORMS": "0",
            "targets-0-metric": "count:boards",
            "targets-0-target": "6",
            "targets-1-metric": "",
            "targets-1-target": "",
            "targets-2-metric": "type:meeting",
            "targets-2-target": "2",
        },
    )
    assert response.status_code == 302
    plan = UnitPlan.objects.get(unit=village, year=2026)
    assert response.url == reverse("units:plan", args=[village.pk, 2026])
    assert plan.text == "一、指导思想……"
    assert sorted(plan.targets.values_list("metric", "target")) == [("count:boards", 6), ("type:meeting", 2)]
    assert plan.created_by == liaison


def test_saving_again_replaces_the_targets(office, township):
    _plan(township, 2026, [("count:boards", 6), ("type:meeting", 2)], office)
    plan = _plan(township, 2026, [("type:meeting", 4)], office, text="修订")
    assert UnitPlan.objects.filter(unit=township, year=2026).count() == 1
    assert list(plan.targets.values_list("metric", "target")) == [("type:meeting", 4)]
    assert plan.text == "修订"


def test_bad_rows_are_refused_with_their_row_numbers_and_nothing_is_saved(office, township):
    rows = [
        {"metric": "count:boards", "target": 6},
        {"metric": "", "target": None},
        {"metric": "count:boards", "target": 3},
        {"metric": "type:meeting", "target": 0},
        {"metric": "type:forum", "target": -2},
        {"metric": "", "target": 5},
        {"metric": "type:visit", "target": None},
        {"metric": "count:nonsense", "target": 1},
    ]
    with pytest.raises(ValidationError) as caught:
        plan_save(unit=township, year=2026, text="", targets=rows, saved_by=office)
    messages = caught.value.message_dict["targets"]
    assert messages == [
        "第3行：指标“板报（期）”与第1行重复，同一指标只能填写一次。",
        "第4行：“领导小组会议（次）”的目标数应大于 0。",
        "第5行：“座谈会（次）”的目标数应大于 0。",
        "第6行：请选择指标。",
        "第7行：请填写“走访慰问（次）”的目标数。",
        "第8行：指标“count:nonsense”不存在，请从列表中选择。",
    ]
    assert not UnitPlan.objects.exists()


@pytest.mark.parametrize("year", [2015, 2028, 1990])
def test_a_year_far_off_is_refused(office, township, year):
    with pytest.raises(ValidationError) as caught:
        _plan(township, year, [("type:meeting", 1)], office)
    assert caught.value.message_dict["year"] == [f"年度应在 2016—2027 年之间，{year} 年不能制定计划。"]


def test_a_plan_needs_a_target(office, township):
    with pytest.raises(ValidationError) as caught:
        _plan(township, 2026, [], office)
    assert "请至少填写一项" in caught.value.message_dict["targets"][0]


def test_leader_and_bureau_liaison_cannot_write_a_plan(client, leader, bureau_liaison, township):
    for user in (leader, bureau_liaison):
        with pytest.raises(ValidationError):
            _plan(township, 2026, [("type:meeting", 1)], user)
        client.force_login(user)
        assert client.get(reverse("units:plan_edit", args=[township.pk, 2026])).status_code == 404
        assert client.post(reverse("units:plan_edit", args=[township.pk, 2026]), {}).status_code == 404
    assert not UnitPlan.objects.exists()


def test_leader_reads_the_plan_without_an_edit_link(client, office, leader, township):
    _plan(township, 2026, [("type:meeting", 2)], office)
    client.force_login(leader)
    html = client.get(reverse("units:plan", args=[township.pk, 2026])).content.decode()
    assert "全年计划" in html
    assert reverse("units:plan_edit", args=[township.pk, 2026]) not in html


def test_the_form_shows_row_errors_and_keeps_what_was_typed(client, office, township):
    client.force_login(office)
    response = client.post(
        reverse("units:plan_edit", args=[township.pk, 2026]),
        {
            "text": "计划正文",
            "targets-TOTAL_FORMS": "2",
            "targets-INITIAL_FORMS": "0",
            "targets-0-metric": "type:meeting",
            "targets-0-target": "2",
            "targets-1-metric": "type:meeting",
            "targets-1-target": "3",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "第2行：指标“领导小组会议（次）”与第1行重复" in html
    assert "计划正文" in html
    assert not UnitPlan.objects.exists()


def test_a_tampered_formset_saves_nothing(client, office, township):
    client.force_login(office)
    response = client.post(reverse("units:plan_edit", args=[township.pk, 2026]), {"text": "x"})
    assert response.status_code == 200
    assert not UnitPlan.objects.exists()


def test_a_new_plan_starts_from_last_years_targets(client, office, township):
    _plan(township, 2025, [("count:boards", 6)], office)
    client.force_login(office)
    html = client.get(reverse("units:plan_edit", args=[township.pk, 2026])).content.decode()
    assert "已按 2025 年计划预填指标" in html
    assert re.search(r'<option value="count:boards" selected>', html)
    assert 'value="6"' in html


def test_the_unit_page_shows_this_years_progress(client, office, township):
    _plan(township, 2026, [("type:meeting", 4)], office)
    _activity(township, ActivityType.MEETING, datetime.date(2026, 2, 1))
    client.force_login(office)
    html = client.get(township.get_absolute_url()).content.decode()
    card = html[html.index('id="unit-plan"') :]
    assert "2026年度计划" in card
    assert _row(card, "type:meeting") == (4, 1)
    assert 'data-percent="25"' in card


def test_the_unit_page_offers_to_write_a_plan(client, office, leader, township):
    client.force_login(office)
    html = client.get(township.get_absolute_url()).content.decode()
    assert "制定计划" in html and reverse("units:plan_edit", args=[township.pk, 2026]) in html
    client.force_login(leader)
    html = client.get(township.get_absolute_url()).content.decode()
    assert "尚未制定2026年双拥工作计划" in html
    assert reverse("units:plan_edit", args=[township.pk, 2026]) not in html


def test_outsider_sees_nothing_of_the_county(client, office, outsider, township):
    _plan(township, 2026, [("type:meeting", 4)], office)
    client.force_login(outsider)
    assert client.get(reverse("units:plan", args=[township.pk, 2026])).status_code == 404
    assert client.get(reverse("units:plan_edit", args=[township.pk, 2026])).status_code == 404
    html = client.get(reverse("units:plans"), {"year": 2026}).content.decode()
    assert "溧东镇" not in html and "示例县" not in html


def test_a_nonsense_year_in_the_address_is_not_found(client, office, township):
    client.force_login(office)
    assert client.get(reverse("units:plan", args=[township.pk, 99999])).status_code == 404
    assert client.get(reverse("units:plan_edit", args=[township.pk, 1200])).status_code == 404


def test_a_bad_year_on_the_overview_says_so(client, office):
    client.force_login(office)
    html = client.get(reverse("units:plans"), {"year": "abc"}).content.decode()
    assert "年度：" in html and "2026年双拥工作计划完成情况" in html


def test_plan_changes_are_kept_in_history(office, liaison, township):
    _plan(township, 2026, [("type:meeting", 2)], office, text="初稿")
    _plan(township, 2026, [("type:meeting", 3)], liaison, text="修订稿")
    plan = UnitPlan.objects.get(unit=township, year=2026)
    assert [(h.text, h.history_user) for h in plan.history.order_by("history_id")] == [
        ("初稿", office),
        ("修订稿", liaison),
    ]
