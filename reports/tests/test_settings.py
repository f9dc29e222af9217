"""The office's reporting settings: the list of units that must report and each quarter's due date."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports.completeness import due_date
from reports.constants import ReportStatus
from reports.models import QuarterDeadline, QuarterlyReport, ReportingUnit
from reports.settings_services import deadline_set, reporting_unit_add, reporting_unit_end
from units.constants import UnitKind
from units.models import Unit

TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def members(county, township, village, other_township, bureau, military_unit):
    school = Unit.objects.create(name="县第一中学", kind=UnitKind.SCHOOL, parent=county)
    return {"township": township, "other_township": other_township, "bureau": bureau, "school": school}


def _checked(html):
    """The names of the ticked units in the add form."""
    form = html.split('id="add-form"')[1].split("</form>")[0]
    return re.findall(r'<input type="checkbox" name="units" value="\d+"[^>]*checked[^>]*>\s*<label[^>]*>(.*?)<', form)


def _offered(html):
    form = html.split('id="add-form"')[1].split("</form>")[0]
    return re.findall(r'<input type="checkbox" name="units"[^>]*>\s*<label[^>]*>(.*?)<', form)


def test_the_add_form_ticks_the_townships_and_departments(client, office, members):
    client.force_login(office)
    html = client.get(reverse("reports:settings")).content.decode()
    assert _checked(html) == ["溧东镇", "雅灰乡", "示例县规划局"]
    # The school is offered but not ticked; villages, military units and the county itself are not offered.
    assert _offered(html) == ["溧东镇", "雅灰乡", "示例县规划局", "县第一中学"]
    assert 'value="2026-10-01"' in html  # the current quarter's first day


def test_the_office_puts_units_on_the_list(client, office, members):
    client.force_login(office)
    response = client.post(
        reverse("reports:reporting_unit_set"),
        {"action": "add", "units": [members["township"].pk, members["school"].pk], "start_on": "2025-01-01"},
    )
    assert response.status_code == 302
    duties = ReportingUnit.objects.order_by("unit__path")
    assert [(d.unit.name, d.start_on, d.end_on, d.set_by) for d in duties] == [
        ("溧东镇", datetime.date(2025, 1, 1), None, office),
        ("县第一中学", datetime.date(2025, 1, 1), None, office),
    ]
    html = client.get(response.url).content.decode()
    assert "已将 2 个单位列入报送名单" in html
    assert _offered(html) == ["雅灰乡", "示例县规划局"]
    table = html.split('id="duty-table"')[1].split("</table>")[0]
    assert "溧东镇" in table and "县第一中学" in table


def test_a_unit_out_of_scope_is_refused_and_nothing_is_added(client, office, members, other_township_far):
    client.force_login(office)
    response = client.post(
        reverse("reports:reporting_unit_set"),
        {"action": "add", "units": [members["township"].pk, other_township_far.pk], "start_on": "2025-01-01"},
    )
    assert response.status_code == 200
    assert "所选单位不在可列入名单的单位中" in response.content.decode()
    assert not ReportingUnit.objects.exists()
    with pytest.raises(ValidationError) as error:
        reporting_unit_add(units=[members["township"], other_township_far], start_on=TODAY.date(), set_by=office)
    assert "“邻县城关镇”不在您的管辖范围内" in str(error.value)
    assert not ReportingUnit.objects.exists()


def test_adding_nothing_or_without_a_date_says_so(client, office, members):
    client.force_login(office)
    html = client.post(reverse("reports:reporting_unit_set"), {"action": "add", "start_on": ""}).content.decode()
    assert "请填写起始日期" in html
    html = client.post(
        reverse("reports:reporting_unit_set"), {"action": "add", "start_on": "2026-10-01"}
    ).content.decode()
    assert "请至少选择一个单位" in html
    assert not ReportingUnit.objects.exists()


def test_a_unit_already_listed_or_listed_again_too_early_is_refused(office, members):
    township, bureau = members["township"], members["bureau"]
    reporting_unit_add(units=[township], start_on=datetime.date(2025, 1, 1), set_by=office)
    with pytest.raises(ValidationError, match="“溧东镇”已在报送名单中"):
        reporting_unit_add(units=[bureau, township], start_on=datetime.date(2026, 1, 1), set_by=office)
    assert not ReportingUnit.objects.filter(unit=bureau).exists()
    (duty,) = reporting_unit_add(units=[bureau], start_on=datetime.date(2025, 1, 1), set_by=office)
    reporting_unit_end(duty=duty, end_on=datetime.date(2025, 12, 31), ended_by=office)
    with pytest.raises(ValidationError, match="重新列入的起始日期应晚于该日期"):
        reporting_unit_add(units=[bureau], start_on=datetime.date(2025, 12, 31), set_by=office)
    reporting_unit_add(units=[bureau], start_on=datetime.date(2026, 7, 1), set_by=office)
    assert ReportingUnit.objects.filter(unit=bureau).count() == 2


def test_the_office_ends_a_unit_s_duty(client, office, members):
    (duty,) = reporting_unit_add(units=[members["bureau"]], start_on=datetime.date(2025, 1, 1), set_by=office)
    client.force_login(office)
    response = client.post(
        reverse("reports:reporting_unit_set"), {"action": "end", "duty": duty.pk, "end_on": "2026-06-30"}
    )
    assert response.status_code == 302
    duty.refresh_from_db()
    assert duty.end_on == datetime.date(2026, 6, 30)
    html = client.get(response.url).content.decode()
    assert "报送至2026年6月30日" in html
    assert "示例县规划局" in html.split('id="ended-duties"')[1]


def test_an_end_before_the_start_or_a_second_end_is_refused(client, office, members):
    (duty,) = reporting_unit_add(units=[members["bureau"]], start_on=datetime.date(2026, 4, 1), set_by=office)
    client.force_login(office)
    response = client.post(
        reverse("reports:reporting_unit_set"),
        {"action": "end", "duty": duty.pk, "end_on": "2026-03-31"},
        follow=True,
    )
    assert "停止报送日期不能早于“示例县规划局”的起始日期2026年4月1日" in response.content.decode()
    duty.refresh_from_db()
    assert duty.end_on is None
    response = client.post(
        reverse("reports:reporting_unit_set"), {"action": "end", "duty": duty.pk, "end_on": ""}, follow=True
    )
    assert "请填写停止报送日期" in response.content.decode()
    reporting_unit_end(duty=duty, end_on=datetime.date(2026, 9, 30), ended_by=office)
    with pytest.raises(ValidationError, match="已于2026年9月30日停止报送"):
        reporting_unit_end(duty=duty, end_on=datetime.date(2026, 12, 31), ended_by=office)


def test_others_cannot_change_the_list(client, liaison, leader, outsider, office, members):
    (duty,) = reporting_unit_add(units=[members["township"]], start_on=datetime.date(2025, 1, 1), set_by=office)
    for user in (liaison, leader):
        client.force_login(user)
        url = reverse("reports:reporting_unit_set")
        assert client.post(url, {"action": "end", "duty": duty.pk, "end_on": "2026-06-30"}).status_code == 404
        assert client.get(reverse("reports:settings")).status_code == 404
    # The other county's office gets 404 for this county's duty (a tampered id), and its page shows none of it.
    client.force_login(outsider)
    response = client.post(
        reverse("reports:reporting_unit_set"), {"action": "end", "duty": duty.pk, "end_on": "2026-06-30"}
    )
    assert response.status_code == 404
    assert client.post(reverse("reports:reporting_unit_set"), {"action": "end", "duty": "x"}).status_code == 404
    html = client.get(reverse("reports:settings")).content.decode()
    assert "溧东镇" not in html
    duty.refresh_from_db()
    assert duty.end_on is None


# Deadlines


def test_the_deadline_table_shows_the_defaults(client, office, county):
    client.force_login(office)
    html = client.get(reverse("reports:settings")).content.decode()
    row = html.split('data-quarter="2026-3"')[1].split("</tr>")[0]
    assert "2026-10-10" in row
    assert 'data-override="here"' not in row
    assert 'data-quarter="2025-1"' in html and 'data-quarter="2026-4"' in html


def test_the_office_sets_and_clears_a_quarter_s_due_date(client, office, county, township):
    report = QuarterlyReport.objects.create(
        unit=township, year=2026, quarter=4, status=ReportStatus.DRAFT, due_on=due_date(township, 2026, 4)
    )
    client.force_login(office)
    response = client.post(reverse("reports:deadline_set"), {"year": 2026, "quarter": 4, "due_on": "2027-01-15"})
    assert response.status_code == 302
    deadline = QuarterDeadline.objects.get()
    assert (deadline.unit, deadline.due_on, deadline.set_by) == (county, datetime.date(2027, 1, 15), office)
    assert due_date(township, 2026, 4) == datetime.date(2027, 1, 15)
    report.refresh_from_db()
    assert report.due_on == datetime.date(2027, 1, 15)
    html = client.get(response.url).content.decode()
    assert "2026年第四季度报告截止日期已设定：2027年1月15日" in html
    assert 'data-override="here"' in html.split('data-quarter="2026-4"')[1].split("</tr>")[0]
    client.post(reverse("reports:deadline_set"), {"year": 2026, "quarter": 4, "due_on": "2027-01-15", "clear": "1"})
    assert not QuarterDeadline.objects.exists()
    report.refresh_from_db()
    assert report.due_on == datetime.date(2027, 1, 10)


def test_a_due_date_before_the_quarter_ends_is_refused(client, office, county):
    client.force_login(office)
    response = client.post(
        reverse("reports:deadline_set"), {"year": 2026, "quarter": 3, "due_on": "2026-09-30"}, follow=True
    )
    assert "报送截止日期应晚于季度结束日期（2026年第三季度结束于2026年9月30日）" in response.content.decode()
    assert not QuarterDeadline.objects.exists()
    for data in ({"year": 2026, "quarter": 3, "due_on": ""}, {"year": "x", "quarter": 7, "due_on": "2026-10-15"}):
        response = client.post(reverse("reports:deadline_set"), data, follow=True)
        assert "未能设定截止日期" in response.content.decode()
    assert not QuarterDeadline.objects.exists()


def test_a_deadline_for_a_unit_out_of_scope_is_refused(office, liaison, county, township, other_county):
    with pytest.raises(ValidationError, match="“邻县”不在您的管辖范围内"):
        deadline_set(unit=other_county, year=2026, quarter=3, due_on=datetime.date(2026, 10, 20), set_by=office)
    with pytest.raises(ValidationError, match="不在您的管辖范围内"):
        deadline_set(unit=township, year=2026, quarter=3, due_on=datetime.date(2026, 10, 20), set_by=liaison)
    assert not QuarterDeadline.objects.exists()


def test_a_township_deadline_below_the_county_s_applies_to_its_units_only(office, county, township, bureau):
    deadline_set(unit=county, year=2026, quarter=3, due_on=datetime.date(2026, 10, 20), set_by=office)
    deadline_set(unit=township, year=2026, quarter=3, due_on=datetime.date(2026, 10, 12), set_by=office)
    assert due_date(bureau, 2026, 3) == datetime.date(2026, 10, 20)
    assert due_date(township, 2026, 3) == datetime.date(2026, 10, 12)


def test_a_city_deadline_shows_as_set_above(client, office, city, county):
    QuarterDeadline.objects.create(unit=city, year=2026, quarter=2, due_on=datetime.date(2026, 7, 15))
    client.force_login(office)
    html = client.get(reverse("reports:settings")).content.decode()
    row = html.split('data-quarter="2026-2"')[1].split("</tr>")[0]
    assert "2026-07-15" in row and "示例市设定" in row
