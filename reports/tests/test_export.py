"""The quarter's workbook: the same rows as the completeness page, the texts and the frozen key figures."""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from reports.constants import ReportStatus
from reports.exporters import HEADER
from reports.tests.test_completeness import _frozen_today, file_report, local, on_list  # noqa: F401
from units.constants import UnitKind
from units.models import Unit

SNAPSHOT = {
    "activities": {
        "count": 6,
        "participants": 430,
        "soldiers": 120,
        "reached": 21,
        "money": "7100.00",
        "goods_value": "1500.50",
    }
}


@pytest.fixture
def quarter(county, township, village, other_township, bureau):
    on_list(township, other_township, bureau, village)
    school = Unit.objects.create(name="县第一中学", kind=UnitKind.SCHOOL, parent=county)
    return {
        "township": file_report(
            township,
            status=ReportStatus.ACCEPTED,
            sent=local(2026, 10, 9, 9, 30),
            work_text="本季度共开展双拥活动6项",
            problems_text="经费偏紧",
            plan_text="=筹备元旦走访",
            figures=SNAPSHOT,
            accepted_figures=SNAPSHOT,
        ),
        "other": file_report(other_township, sent=local(2026, 10, 13, 9, 0), figures={"activities": {"count": 2}}),
        "village": file_report(village, status=ReportStatus.DRAFT, work_text="草稿"),
        "school": file_report(school, sent=local(2026, 10, 2, 9, 0)),
    }


def _sheet(response, index=0):
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def _page_rows(html):
    table = html.split('id="unit-table"')[1].split("</table>")[0]
    return re.findall(r'<tr data-unit="\d+" data-status="(\w+)">\s*<td>(.*?)</td>', table)


def test_the_export_rows_equal_the_page(client, office, quarter):
    client.force_login(office)
    html = client.get(reverse("reports:completeness"), {"year": 2026, "quarter": 3}).content.decode()
    response = client.get(reverse("reports:quarter_export"), {"year": 2026, "quarter": 3})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "2026%E5%B9%B4" in response["Content-Disposition"]  # 2026年… as the file name
    rows = _sheet(response)
    assert rows[0] == HEADER
    labels = {
        "accepted": "已通过",
        "submitted": "待审核",
        "returned": "已退回",
        "draft": "草稿未报送",
        "missing": "未报送",
    }
    page = [(name, labels[status]) for status, name in _page_rows(html)]
    listed = [row for row in rows[1:] if row[7] != "不在报送名单（不计入统计）"]
    assert [(row[0], row[3]) for row in listed] == page
    assert page == [("溧东镇", "已通过"), ("东村", "草稿未报送"), ("雅灰乡", "待审核"), ("示例县规划局", "未报送")]
    # The unlisted school's report follows, marked, as on the page.
    assert [row[0] for row in rows[1:] if row[7] == "不在报送名单（不计入统计）"] == ["县第一中学"]


def test_the_export_carries_the_texts_times_and_the_frozen_figures(client, office, quarter):
    client.force_login(office)
    rows = {
        row[0]: dict(zip(HEADER, row, strict=True)) for row in _sheet(client.get(reverse("reports:quarter_export")))
    }
    township = rows["溧东镇"]
    assert township["所属乡镇"] == "溧东镇"
    assert township["报送截止日期"] == datetime.datetime(2026, 10, 10)
    assert township["首次报送时间"] == datetime.datetime(2026, 10, 9, 9, 30)  # local time, not UTC
    assert township["是否按时"] == "按时"
    assert township["工作开展情况"] == "本季度共开展双拥活动6项"
    assert township["下季度工作计划"] == "'=筹备元旦走访"  # never run as a formula
    assert (township["活动（项）"], township["参加人次"], township["官兵（人次）"], township["受益人数"]) == (
        6,
        430,
        120,
        21,
    )
    assert Decimal(str(township["慰问金（元）"])) == Decimal("7100.00")
    assert Decimal(str(township["物品折价（元）"])) == Decimal("1500.5")
    assert rows["雅灰乡"]["是否按时"] == "迟报 3 天"
    assert rows["雅灰乡"]["活动（项）"] == 2
    # A draft states no figures; a missing unit has no text and shows how overdue it is.
    assert rows["东村"]["活动（项）"] is None
    assert rows["示例县规划局"]["工作开展情况"] is None
    assert rows["示例县规划局"]["是否按时"] == "已逾期 53 天"


def test_the_tally_sheets_match_the_page(client, office, quarter):
    client.force_login(office)
    response = client.get(reverse("reports:quarter_export"))
    townships = _sheet(response, 2)
    assert townships[1:] == [
        ["溧东镇", 2, 1, 1, 0, 1, 0, 1, 50, 50],
        ["雅灰乡", 1, 1, 0, 1, 0, 0, 0, 100, 0],
        ["县直单位", 1, 0, 0, 0, 1, 0, 0, 0, 0],
        ["合计", 4, 2, 1, 1, 2, 0, 1, 50, 25],
    ]
    kinds = _sheet(response, 1)
    assert [row[0] for row in kinds[1:]] == ["乡镇/街道", "村/社区", "机关部门", "合计"]


def test_the_outsider_s_workbook_holds_nothing_of_the_county(client, outsider, quarter):
    client.force_login(outsider)
    rows = _sheet(client.get(reverse("reports:quarter_export")))
    assert rows == [HEADER]


def test_liaisons_get_no_workbook(client, liaison, quarter):
    client.force_login(liaison)
    assert client.get(reverse("reports:quarter_export")).status_code == 404
