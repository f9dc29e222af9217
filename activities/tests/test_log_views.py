import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.constants import ActivityType, Occasion
from shuangyong.lib.money import format_yuan

from .log_data import make_person, photo, record, record_campaign
from .test_selectors import seed_001_campaign

pytestmark = pytest.mark.django_db

D = Decimal


INLINE_TAGS = re.compile(r"</?(a|strong|span|em|b|small)\b[^>]*>")


def text(response):
    """The page as a reader sees it: inline tags out, other tags as a space, spaces squeezed."""
    html = response.content.decode().split("</head>")[-1]
    html = re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", INLINE_TAGS.sub("", html)))


def table_rows(response, table_id):
    """The rows of a table as a desktop reader sees them (the phone-only lines left out), cells as text."""
    html = response.content.decode()
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, flags=re.S).group(0)
    table = re.sub(r'<div class="[^"]*d-md-none[^"]*">.*?</div>', "", table, flags=re.S)
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)
    ]


def total(response, name):
    match = re.search(rf'data-total="{name}">([^<]*)<', response.content.decode())
    return match.group(1).strip()


def titles(response):
    return sorted(re.findall(r'<td><a href="/activities/\d+/">([^<]+)</a>', response.content.decode()))


def get_list(client, **params):
    return client.get(reverse("activities:list"), params)


@pytest.fixture
def campaign(office, township, village, other_township, person):
    return record_campaign(office, township, village, other_township, person)


def test_the_totals_row_is_the_sum_of_the_activities(client, office, campaign):
    client.force_login(office)
    response = get_list(client)
    assert response.status_code == 200
    assert titles(response) == ["乡八一慰问", "村板报", "镇八一慰问"]
    assert total(response, "count") == "3 项"
    assert total(response, "participants") == f"{25 + 6 + 12} 人次"
    assert total(response, "soldiers") == f"{10 + 3} 人次"
    assert total(response, "reached") == f"{31 + 4} 人"
    assert total(response, "money") == format_yuan(D("500.50") + D("3000") + D("2000.25"))
    assert total(response, "goods_value") == format_yuan(D("120") + D("99.75"))
    assert "板报 2 期" in text(response)


def test_a_unit_filter_shows_its_villages_and_not_the_other_township(client, office, township, campaign):
    client.force_login(office)
    response = get_list(client, unit=township.pk)
    assert titles(response) == ["村板报", "镇八一慰问"]
    assert total(response, "money") == format_yuan(D("3500.50"))
    assert f'<option value="{township.pk}" selected>' in response.content.decode()


def test_filters_narrow_the_page(client, office, campaign):
    client.force_login(office)
    assert titles(get_list(client, type=ActivityType.PUBLICITY)) == ["村板报"]
    assert titles(get_list(client, occasion=Occasion.ARMY_DAY, year=2025)) == ["乡八一慰问", "镇八一慰问"]
    assert titles(get_list(client, has_photos=1)) == ["村板报"]
    assert titles(get_list(client, q="乡")) == ["乡八一慰问"]
    assert titles(get_list(client, date_from="2025-08-01")) == []


def test_the_liaison_sees_the_township_and_the_outsider_nothing(client, liaison, outsider, other_township, campaign):
    client.force_login(liaison)
    assert titles(get_list(client)) == ["村板报", "镇八一慰问"]
    client.force_login(outsider)
    response = get_list(client)
    assert titles(response) == []
    assert total(response, "count") == "0 项"
    assert "没有符合条件的活动" in text(response)
    response = get_list(client, unit=other_township.pk)
    assert response.status_code == 200
    assert "单位：所选单位不存在或不在您的管辖范围内" in text(response)
    assert "雅灰乡" not in text(response)


def test_bad_parameters_give_a_message_and_the_whole_list(client, office, campaign):
    client.force_login(office)
    response = get_list(client, year="二〇二五", date_from="2025/99/01", occasion="<script>", page="x")
    assert response.status_code == 200
    page = text(response)
    assert "年度：请填写" in page
    assert "开始日期：请写成 2025-01-31 的形式" in page
    assert "时机：没有“&lt;script&gt;”这个时机" in page
    assert "<script>" not in response.content.decode().split("</head>")[1]
    assert total(response, "count") == "3 项"


def test_editors_get_the_entry_buttons_and_everyone_the_export(client, liaison, leader, campaign):
    client.force_login(liaison)
    page = get_list(client).content.decode()
    assert reverse("activities:create") in page and reverse("activities:import") in page
    client.force_login(leader)
    page = get_list(client).content.decode()
    assert reverse("activities:create") not in page and reverse("activities:import") not in page
    assert reverse("activities:export") in page


def test_the_export_link_keeps_the_filters(client, office, township, campaign):
    client.force_login(office)
    page = get_list(client, unit=township.pk, type="visit", year="bad").content.decode()
    assert f'href="{reverse("activities:export")}?unit={township.pk}&amp;type=visit"' in page


def list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = get_list(client)
    return len(titles(response)), len(queries)


def test_the_list_makes_as_many_queries_for_50_rows_as_for_10(client, office, township, military_unit, pairing):
    client.force_login(office)
    for number in range(10):
        record(township, office, title=f"慰问{number}", military_units=[military_unit], pairings=[pairing])
    rows, ten = list_queries(client)
    assert rows == 10
    for number in range(40):
        record(township, office, title=f"宣传{number}", military_units=[military_unit], photos=[photo()])
    rows, fifty = list_queries(client)
    assert rows == 50
    assert fifty == ten
    assert ten <= 16


def test_the_pages_split_the_rows_and_keep_the_totals(client, office, township):
    for number in range(55):
        record(township, office, title=f"慰问{number:02d}", participants=1)
    client.force_login(office)
    response = get_list(client, page=2)
    assert len(titles(response)) == 5
    assert total(response, "participants") == "55 人次"
    assert "第 2 / 2 页，共 55 条" in text(response)


def test_the_occasion_page_states_the_campaign_total_as_the_seed_does(client, office, county, township, bureau):
    seed_001_campaign(office, county, township, bureau)
    client.force_login(office)
    response = client.get(reverse("activities:occasion", args=[2025, "army_day"]))
    assert response.status_code == 200
    page = text(response)
    assert "2025年八一慰问" in page
    assert "合计20.39万元" in page
    assert "合计20.39万元（203,900.00 元）" in page
    assert total(response, "money") == "203,900.00 元"
    assert "慰问单位 20 个、优抚对象 3 人次、其他群体 456 人" in page
    # Every gift, group and (masked) registry recipient is listed with its amount, and each list has its 小计.
    gifts = table_rows(response, "occasion-gifts")
    assert [row[0] for row in gifts[1:17]] == [f"驻区部队{n}" for n in range(16)]
    assert gifts[17] == ["韶光微电子总公司", "八一慰问困难企业 07-28", "示例县", "8,500.00", "—", "—"]
    assert gifts[-1] == ["小计（20 个单位）", "", "96,000.00", "", "0.00"]
    recipients = table_rows(response, "occasion-recipients")
    assert [(row[0], row[3]) for row in recipients[1:-1]] == [
        ("粟*祥", "500.00"),
        ("李*国", "500.00"),
        ("赵*军", "500.00"),
    ]
    assert recipients[-1][:3] == ["小计（3 人次）", "", "1,500.00"]
    assert "粟正祥" not in page
    groups = table_rows(response, "occasion-groups")
    assert [(row[0], row[1], row[4]) for row in groups[1:-1]] == [
        ("军队退休干部", "15", "3,000.00"),
        ("老复员军人、烈军属、特困复退战士", "115", "23,000.00"),
        ("在乡老复员军人", "26", "10,400.00"),
        ("辖区涉军人员", "300", "70,000.00"),
    ]
    assert groups[-1][:2] == ["小计", "456"] and groups[-1][3] == "106,400.00"


def test_the_occasion_page_counts_goods_apart_and_together(client, office, township, person):
    record(
        township,
        office,
        gifts=[{"recipient_name": "消防中队", "money": D("10000"), "goods": "空调两台", "goods_value": D("5200")}],
        recipients=[{"beneficiary": person, "amount": D("500")}],
    )
    client.force_login(office)
    response = client.get(reverse("activities:occasion", args=[2025, "army_day"]))
    page = text(response)
    assert "合计1.05万元，另有物品折价5200元，共计1.57万元" in page
    assert total(response, "goods_value") == "5,200.00 元"
    assert total(response, "total_value") == "15,700.00 元"


def test_the_occasion_page_of_a_unit_and_of_the_outsider(client, office, outsider, county, township, bureau):
    seed_001_campaign(office, county, township, bureau)
    client.force_login(office)
    response = client.get(reverse("activities:occasion", args=[2025, "army_day"]), {"unit": township.pk})
    assert "溧东镇2025年八一慰问" in text(response)
    assert "合计10.34万元" in text(response)
    client.force_login(outsider)
    response = client.get(reverse("activities:occasion", args=[2025, "army_day"]))
    assert response.status_code == 200
    assert "合计0元" in text(response)
    assert "驻区部队" not in text(response)


@pytest.mark.parametrize("args", [[2025, "christmas"], [2025, "none"], [1800, "army_day"]])
def test_an_unknown_occasion_is_404(client, office, args):
    client.force_login(office)
    assert client.get(reverse("activities:occasion", args=args)).status_code == 404


def test_the_occasions_page_links_each_year_and_occasion(client, office, township):
    record(township, office, groups=[{"description": "群众", "people": 3, "money": D("20390")}])
    record(township, office, title="春节", occasion=Occasion.SPRING_FESTIVAL, on=datetime.date(2025, 12, 29))
    client.force_login(office)
    response = client.get(reverse("activities:occasions"))
    page = response.content.decode()
    assert f'href="{reverse("activities:occasion", args=[2025, "army_day"])}"' in page
    assert f'href="{reverse("activities:occasion", args=[2026, "spring"])}"' in page
    assert "2.04万元" in text(response)


def test_the_unit_page_shows_its_latest_activities_and_the_years_totals(
    client, office, township, village, time_machine
):
    time_machine.move_to(datetime.datetime(2025, 9, 1, 9, 0))
    record(
        village,
        office,
        title="村八一慰问",
        participants=8,
        groups=[{"description": "群众", "people": 2, "money": D("400")}],
    )
    record(township, office, title="去年的活动", on=datetime.date(2024, 5, 1), participants=50)
    client.force_login(office)
    response = client.get(reverse("units:detail", args=[township.pk]))
    page = text(response)
    assert "村八一慰问" in page and "去年的活动" in page
    assert "2025年：活动 1 项，参加 8 人次" in page
    assert "慰问金额 400.00 元" in page
    assert f'href="{reverse("activities:list")}?unit={township.pk}"' in response.content.decode()


def test_the_pairing_page_shows_its_activities(client, liaison, township, pairing, time_machine):
    time_machine.move_to(datetime.datetime(2025, 9, 1, 9, 0))
    record(township, liaison, title="共建签约仪式", type=ActivityType.JOINT, occasion="", pairings=[pairing])
    record(township, liaison, title="别的活动")
    client.force_login(liaison)
    response = client.get(reverse("units:pairing", args=[pairing.pk]))
    page = text(response)
    assert "共建签约仪式" in page and "别的活动" not in page
    assert f'href="{reverse("activities:list")}?pairing={pairing.pk}"' in response.content.decode()


def test_the_person_page_lists_every_visit(client, office, liaison, county, township, person):
    record(county, office, title="县八一慰问", recipients=[{"beneficiary": person, "amount": D("600")}])
    other = make_person(township, 7)
    record(
        township,
        liaison,
        title="镇春节慰问",
        occasion=Occasion.SPRING_FESTIVAL,
        on=datetime.date(2025, 1, 20),
        recipients=[
            {"beneficiary": person, "amount": D("400"), "goods": "米油"},
            {"beneficiary": other, "amount": D("1")},
        ],
    )
    client.force_login(liaison)
    response = client.get(reverse("beneficiaries:detail", args=[person.pk]))
    page = text(response)
    assert "走访慰问" in page
    assert "县八一慰问" in page and "600.00" in page
    assert "镇春节慰问" in page and "400.00" in page and "米油" in page
    # The liaison may open the township's activity, not the county's.
    html = response.content.decode()
    assert ">镇春节慰问</a>" in html and ">县八一慰问</a>" not in html
