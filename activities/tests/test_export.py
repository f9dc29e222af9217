import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from activities import exporters

from .log_data import record_campaign
from .test_log_views import get_list, total

pytestmark = pytest.mark.django_db

D = Decimal


def sheet_rows(response, title="双拥活动"):
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook[title].values]


def export(client, **params):
    return client.get(reverse("activities:export"), params)


@pytest.fixture
def campaign(office, township, village, other_township, military_unit, pairing, person):
    return record_campaign(
        office,
        township,
        village,
        other_township,
        person,
        board_title='=HYPERLINK("http://x")',
        cost=D("88.80"),
        military_units=[military_unit],
        pairings=[pairing],
    )


def column(rows, name):
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


def test_the_workbook_holds_the_pages_rows_and_totals(client, office, campaign):
    client.force_login(office)
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    rows = sheet_rows(response)
    assert rows[0] == exporters.HEADER
    *activities, totals_row = rows[1:]
    assert len(activities) == 3
    assert totals_row[0] == "合计"
    assert totals_row[rows[0].index("标题")] == "3项活动"
    page = get_list(client)
    for name, key in [("参加人数", "participants"), ("官兵人数", "soldiers"), ("受益（慰问）人数", "reached")]:
        values = column(rows, name)
        assert values[-1] == sum(values[:-1])
        assert total(page, key).startswith(f"{values[-1]} ")
    money = column(rows, "慰问金额（元）")
    assert money[-1] == pytest.approx(float(D("500.50") + D("3000") + D("2000.25")))
    assert money[-1] == pytest.approx(sum(money[:-1]))
    assert total(page, "money") == f"{money[-1]:,.2f} 元"
    goods = column(rows, "物品折价（元）")
    assert total(page, "goods_value") == f"{goods[-1]:,.2f} 元"
    assert column(rows, "板报（期）")[-1] == 2
    assert column(rows, "活动经费（元）")[-1] == pytest.approx(88.8)


def test_a_row_says_what_the_activity_was(client, office, campaign, military_unit, pairing):
    client.force_login(office)
    rows = sheet_rows(export(client, q="镇八一"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["组织单位"] == "溧东镇"
    assert row["活动类型"] == "走访慰问"
    assert row["时机"] == "八一"
    assert row["节日年度"] == 2025
    assert row["慰问对象人数"] == 31
    assert row["参与部队"] == "示例县人武部"
    assert row["共建对子"] == "溧东镇 ↔ 示例县人武部"
    assert row["日期"].date().isoformat() == "2025-07-28"


def test_the_export_follows_the_filters_and_the_scope(client, office, liaison, outsider, township, campaign):
    client.force_login(office)
    rows = sheet_rows(export(client, unit=township.pk))
    assert sorted(column(rows, "标题")[:-1]) == sorted(["镇八一慰问", '\'=HYPERLINK("http://x")'])
    client.force_login(liaison)
    assert len(sheet_rows(export(client))) == 1 + 2 + 1
    client.force_login(outsider)
    rows = sheet_rows(export(client))
    assert rows[1][0] == "合计"
    assert rows[1][rows[0].index("标题")] == "0项活动"


def test_a_title_that_looks_like_a_formula_stays_text(client, office, campaign):
    client.force_login(office)
    rows = sheet_rows(export(client, has_photos=1))
    assert column(rows, "标题")[0] == '\'=HYPERLINK("http://x")'


def test_the_sheet_of_notes_states_the_filters(client, office, township, campaign):
    client.force_login(office)
    notes = dict((row[0], row[1]) for row in sheet_rows(export(client, unit=township.pk, year="abc"), "说明") if row)
    assert notes["筛选条件"].startswith("单位：溧东镇（未生效的条件：年度：")
    assert notes["活动数"] == 2


def test_too_many_rows_are_refused_with_a_message(client, office, township, campaign, monkeypatch):
    monkeypatch.setattr(exporters, "EXPORT_MAX_ROWS", 1)
    client.force_login(office)
    response = export(client, type="visit")
    assert response.status_code == 302
    assert response.url == f"{reverse('activities:list')}?type=visit"
    page = client.get(response.url).content.decode()
    assert "符合条件的活动有 2 项，超过单次导出上限 1 项" in re.sub(r"\s+", " ", page)
    assert export(client, q="乡").status_code == 200
