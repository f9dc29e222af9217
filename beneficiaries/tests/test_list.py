import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beneficiaries.constants import Category, DisabilityNature, Status
from beneficiaries.models import Beneficiary, Entitlement
from conftest import valid_id_number
from shuangyong.lib.idcard import mask_id_number
from units.constants import UnitKind
from units.models import Unit

LIST = reverse("beneficiaries:list")


def make_person(name, initials, body, township, village=None, categories=(), **fields):
    """Save a person directly (the list reads models only); `categories` holds (category, grade, nature, end_on)."""
    number = valid_id_number(body)
    person = Beneficiary.objects.create(
        name=name,
        name_initials=initials,
        id_number=number,
        sex="男" if int(body[16]) % 2 else "女",
        birth_date=datetime.date(int(body[6:10]), int(body[10:12]), int(body[12:14])),
        township=township,
        village=village,
        **fields,
    )
    for category, grade, nature, end_on in categories:
        Entitlement.objects.create(
            beneficiary=person,
            category=category,
            grade=grade,
            nature=nature,
            start_on=datetime.date(2015, 1, 1),
            end_on=end_on,
        )
    return person


def page_of(client, params=None):
    response = client.get(LIST, params or {})
    assert response.status_code == 200
    return response.content.decode()


def names_on(html):
    return set(re.findall(r'<a href="/beneficiaries/\d+/">([^<]+)</a>', html))


@pytest.fixture
def roster(person, township, other_township, village):
    """王建国 (fixture: 残疾军人 因战六级, 溧东镇 东村) plus three more people of the county."""
    west = Unit.objects.create(name="西村", kind=UnitKind.VILLAGE, parent=township, region_code="320481100202")
    year = timezone.localdate().year
    return {
        "王建国": person,
        "李秀英": make_person(
            "李秀英",
            "lxy",
            "32048119550302002",
            township,
            west,
            [(Category.MARTYR_FAMILY, None, "", None), (Category.DEMOBILIZED, None, "", datetime.date(2016, 1, 1))],
            confirmed_year=year,
            hardship_housing=True,
        ),
        "王建华": make_person(
            "王建华",
            "wjh",
            "32048119700815003",
            other_township,
            None,
            [(Category.DISABLED, 8, DisabilityNature.DUTY, None), (Category.RURAL_VETERAN_60, None, "", None)],
            status=Status.HELD,
            confirmed_year=year - 1,
            hardship_living=True,
            hardship_medical=True,
        ),
        "赵军": make_person(
            "赵军", "zj", "32048119801111005", other_township, None, [(Category.RURAL_VETERAN_60, None, "", None)]
        ),
    }


def test_the_list_shows_masked_ids_and_never_a_full_number(client, office, roster):
    client.force_login(office)
    html = page_of(client)
    for person in roster.values():
        assert mask_id_number(person.id_number) in html
        assert person.id_number not in html
        assert person.id_number[:-1] not in html
    assert roster["王建国"].bank_account not in html
    assert names_on(html) == set(roster)


def test_a_row_shows_sex_age_units_categories_status_and_confirmation(client, office, roster):
    client.force_login(office)
    html = page_of(client, {"q": "王建华"})
    today = timezone.localdate()
    age = today.year - 1970 - ((today.month, today.day) < (8, 15))
    row = re.search(r"<tr>\s*<td><a[^>]*>王建华</a>.*?</tr>", html, re.S).group(0)
    assert "<td>男</td>" in row
    assert f"<td>{age}</td>" in row
    assert "雅灰乡" in row
    assert "残疾军人（因公八级）" in row and "60周岁以上农村籍退役士兵" in row
    assert "停发" in row
    assert f"<td>{today.year - 1}</td>" in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("建", {"王建国", "王建华"}),
        ("李秀英", {"李秀英"}),
        ("wj", {"王建国", "王建华"}),
        ("WJG", {"王建国"}),
        ("zj", {"赵军"}),
        ("jg", set()),
    ],
)
def test_it_searches_by_name_and_pinyin_initials(client, office, roster, query, expected):
    client.force_login(office)
    assert names_on(page_of(client, {"q": query})) == expected


def test_it_searches_by_the_last_four_to_six_characters_of_the_id(client, office, roster):
    client.force_login(office)
    number = roster["李秀英"].id_number
    assert names_on(page_of(client, {"q": number[-4:]})) == {"李秀英"}
    assert names_on(page_of(client, {"q": number[-6:]})) == {"李秀英"}
    assert names_on(page_of(client, {"q": "0000"})) == set()


def test_it_finds_a_person_by_the_full_id_without_echoing_it(client, office, roster):
    client.force_login(office)
    number = roster["王建华"].id_number
    response = client.post(LIST, {"q": number})
    html = response.content.decode()
    assert response.status_code == 200
    assert names_on(html) == {"王建华"}
    assert number not in html
    assert f"按身份证号 {mask_id_number(number)} 查询" in html
    # A lower-case x is read as X, and an old link with the number in the URL still works.
    x_person = make_person("孙丽", "sl", "34052419800101001", roster["王建国"].township)
    assert x_person.id_number.endswith("X")
    html = page_of(client, {"q": x_person.id_number.lower()})
    assert names_on(html) == {"孙丽"} and x_person.id_number.lower() not in html


def test_a_posted_search_without_a_full_id_moves_to_the_address_bar(client, office, roster, township):
    client.force_login(office)
    response = client.post(LIST, {"q": "wj", "township": township.pk, "village": "", "hardship_living": "on"})
    assert response.status_code == 302
    assert response.url == f"{LIST}?q=wj&township={township.pk}&hardship_living=on"


def test_a_number_of_the_wrong_length_is_refused_with_a_message(client, office, roster):
    client.force_login(office)
    html = page_of(client, {"q": "3204811962"})
    assert "按身份证号查询请输入完整的 18 位号码，或最后 4–6 位" in html
    assert names_on(html) == set(roster)


def test_filters_narrow_the_list(client, office, roster, township, other_township, village):
    client.force_login(office)
    this_year = "yes"
    cases = [
        ({"township": township.pk}, {"王建国", "李秀英"}),
        ({"township": township.pk, "village": village.pk}, {"王建国"}),
        ({"category": Category.RURAL_VETERAN_60}, {"王建华", "赵军"}),
        ({"category": Category.DEMOBILIZED}, set()),
        ({"category": Category.DISABLED, "grade": 8}, {"王建华"}),
        ({"grade": 6}, {"王建国"}),
        ({"status": Status.HELD}, {"王建华"}),
        ({"status": Status.ACTIVE}, {"王建国", "李秀英", "赵军"}),
        ({"confirmed": this_year}, {"李秀英"}),
        ({"confirmed": "no"}, {"王建国", "王建华", "赵军"}),
        ({"hardship_living": "on"}, {"王建华"}),
        ({"hardship_living": "on", "hardship_medical": "on"}, {"王建华"}),
        ({"hardship_housing": "on"}, {"李秀英"}),
        ({"township": other_township.pk, "q": "wj"}, {"王建华"}),
    ]
    for params, expected in cases:
        assert names_on(page_of(client, params)) == expected, params


def test_a_village_outside_the_chosen_township_is_refused(client, office, roster, other_township, village):
    client.force_login(office)
    html = page_of(client, {"township": other_township.pk, "village": village.pk})
    assert "所选村（社区）不在所选乡镇内，或不在您的管辖范围内" in html
    assert names_on(html) == {"王建华", "赵军"}


def test_township_and_village_choices_come_from_the_users_scope(
    client, liaison, office, roster, township, other_township, other_township_far
):
    client.force_login(liaison)
    html = page_of(client)
    assert names_on(html) == {"王建国", "李秀英"}
    assert "东村" in html and "西村" in html
    assert "雅灰乡" not in html and "邻县城关镇" not in html
    html = page_of(client, {"township": other_township.pk})
    assert "所选乡镇（街道）不存在或不在您的管辖范围内" in html
    assert "王建华" not in html

    client.force_login(office)
    html = page_of(client)
    assert "雅灰乡" in html and "溧东镇" in html and "邻县城关镇" not in html
    assert "请先选择乡镇（街道）" in html
    assert ">西村</option>" in page_of(client, {"township": township.pk})


def test_counts_per_category_match_the_rows(client, office, roster, township):
    client.force_login(office)
    for params in [{}, {"township": township.pk}, {"category": Category.RURAL_VETERAN_60}]:
        html = page_of(client, params)
        counts = {code: int(n) for code, n in re.findall(r'data-category-count="(\d+)">(\d+)<', html)}
        expected = {}
        for person in Beneficiary.objects.filter(name__in=names_on(html)):
            for code in set(person.entitlements.current(timezone.localdate()).values_list("category", flat=True)):
                expected[code] = expected.get(code, 0) + 1
        assert counts == expected, params
        assert re.search(r"data-total-count>(\d+)<", html).group(1) == str(len(names_on(html)))
    counts = dict(re.findall(r'data-category-count="(\d+)">(\d+)<', page_of(client)))
    assert counts == {Category.MARTYR_FAMILY: "1", Category.DISABLED: "2", Category.RURAL_VETERAN_60: "2"}


def test_the_list_query_count_does_not_grow(client, office, township, village, django_assert_max_num_queries):
    def add(start, count):
        for n in range(start, start + count):
            make_person(
                f"对象{n}",
                "dx",
                f"32048119600101{n:03d}",
                township,
                village,
                [(Category.DISABLED, 5, DisabilityNature.WAR, None), (Category.RURAL_VETERAN_60, None, "", None)],
            )

    add(0, 5)
    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    add(5, 55)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page_of(client)
    assert len(names_on(html)) == 50
    assert "第 1 / 2 页，共 60 条" in html
    assert 'data-category-count="04">60<' in html


def test_the_bureau_liaison_sees_an_empty_list(client, bureau_liaison, roster):
    client.force_login(bureau_liaison)
    html = page_of(client)
    assert names_on(html) == set()
    assert "没有符合条件的优抚对象" in html
    assert reverse("beneficiaries:create") not in html


def test_the_outsider_sees_none_of_the_countys_people(client, outsider, roster):
    client.force_login(outsider)
    html = page_of(client, {"q": roster["王建国"].id_number[-4:]})
    assert names_on(html) == set()


def test_editors_get_create_import_and_export_buttons(client, office, liaison, leader, roster):
    buttons = [reverse("beneficiaries:create"), reverse("beneficiaries:import"), reverse("beneficiaries:export")]
    for editor in (office, liaison):
        client.force_login(editor)
        html = page_of(client)
        assert all(url in html for url in buttons)
    client.force_login(leader)
    html = page_of(client)
    assert names_on(html) == set(roster)
    assert not any(url in html for url in buttons[:2])
    assert buttons[2] in html


def test_only_office_staff_get_the_access_log_link(client, office, liaison, roster):
    client.force_login(office)
    assert reverse("beneficiaries:access_log") in page_of(client)
    client.force_login(liaison)
    assert reverse("beneficiaries:access_log") not in page_of(client)


@pytest.fixture
def wide_scope(monkeypatch):
    """Make the county office's two townships count as a scope too large for a township select."""
    monkeypatch.setattr("beneficiaries.forms.TOWNSHIP_SELECT_LIMIT", 1)


def test_a_wide_scope_types_the_township_by_name_or_region_code(
    client, office, roster, township, other_township, other_township_far, village, wide_scope
):
    client.force_login(office)
    html = page_of(client)
    assert re.search(r'<input type="text" name="township"', html)
    assert ">溧东镇</option>" not in html and ">雅灰乡</option>" not in html
    assert names_on(page_of(client, {"township": "溧东镇"})) == {"王建国", "李秀英"}
    assert names_on(page_of(client, {"township": other_township.region_code[:9]})) == {"王建华", "赵军"}
    assert names_on(page_of(client, {"township": "溧东镇", "village": village.pk})) == {"王建国"}
    html = page_of(client, {"township": "邻县城关镇"})
    assert "所选乡镇（街道）不存在或不在您的管辖范围内" in html
    assert names_on(html) == set(roster)
    html = page_of(client, {"township": "3204811"})
    assert "有多个乡镇（街道）与之相符，请输入完整的名称或区划代码" in html


def test_a_wide_scope_shows_category_counts_on_request_or_with_a_filter(client, office, roster, township, wide_scope):
    client.force_login(office)
    html = page_of(client)
    assert "data-category-count" not in html
    assert "显示分类统计" in html and "?counts=1" in html
    assert re.search(r"data-total-count>(\d+)<", html).group(1) == "4"
    expected = {Category.MARTYR_FAMILY: "1", Category.DISABLED: "2", Category.RURAL_VETERAN_60: "2"}
    assert dict(re.findall(r'data-category-count="(\d+)">(\d+)<', page_of(client, {"counts": "1"}))) == expected
    counts = dict(re.findall(r'data-category-count="(\d+)">(\d+)<', page_of(client, {"township": "溧东镇"})))
    assert counts == {Category.MARTYR_FAMILY: "1", Category.DISABLED: "1"}


def test_a_full_id_search_reads_the_id_index_only(client, office, roster):
    client.force_login(office)
    number = roster["王建华"].id_number
    with CaptureQueriesContext(connection) as queries:
        response = client.post(LIST, {"q": number})
    assert names_on(response.content.decode()) == {"王建华"}
    people_queries = [q["sql"] for q in queries.captured_queries if "beneficiaries_beneficiary" in q["sql"]]
    assert people_queries and not any('"name" LIKE' in sql for sql in people_queries)
