import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beneficiaries.constants import AwardLevel, Category, ChangeKind, ServiceArea, Status, TransferStatus
from beneficiaries.models import Award, Entitlement, StatusChange, Transfer
from conftest import make_user, valid_id_number
from shuangyong.lib.idcard import mask_bank_account, mask_id_number
from units.constants import Role


def detail(client, person):
    response = client.get(reverse("beneficiaries:detail", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def family_entitlement(person):
    entitlement = Entitlement.objects.create(
        beneficiary=person,
        category=Category.CONSCRIPT_FAMILY,
        start_on=datetime.date(2024, 9, 1),
        serving_member_name="王小兵",
        enlistment_date=datetime.date(2024, 9, 10),
        service_area=ServiceArea.TIBET,
        approval_document="溧东〔2024〕8号",
    )
    Award.objects.create(entitlement=entitlement, level=AwardLevel.THIRD, awarded_on=datetime.date(2025, 7, 20))
    return entitlement


def test_the_header_shows_the_person_with_masked_numbers(client, office, person):
    person.address = "溧东镇东村12号"
    person.cadre = "陈干部"
    person.hardship_housing = True
    person.notes = "独居，需每月走访。"
    person.status_since = datetime.date(2010, 1, 1)
    person.confirmed_year = 2025
    person.save()
    client.force_login(office)
    html = detail(client, person)
    today = timezone.localdate()
    age = today.year - 1962 - ((today.month, today.day) < (5, 17))
    for text in [
        "王建国",
        '<dd class="col-sm-4">男</dd>',
        f"1962-05-17（{age} 岁）",
        mask_id_number(person.id_number),
        "13800000001",
        "溧东镇东村12号",
        "溧东镇 / 东村",
        "示例县农村商业银行",
        mask_bank_account(person.bank_account),
        "陈干部",
        "住房困难",
        "独居，需每月走访。",
        "在册（自 2010-01-01）",
        "2025 年",
    ]:
        assert text in html, text
    assert person.id_number not in html
    assert person.bank_account not in html
    assert "待接入" not in html


def test_entitlements_show_grade_document_dates_serving_member_and_awards(client, office, person, family_entitlement):
    Entitlement.objects.create(
        beneficiary=person,
        category=Category.RURAL_VETERAN_60,
        start_on=datetime.date(2020, 1, 1),
        end_on=datetime.date(2023, 12, 31),
        service_years=3,
    )
    client.force_login(office)
    html = detail(client, person)
    for text in [
        "残疾军人",
        "六级 · 因战",
        "苏民优〔2009〕12号",
        "2010-01-01 至 今",
        "义务兵家庭",
        "王小兵，2024-09-10 入伍，西藏（进藏）",
        "三等功（2025-07-20）",
        '60周岁以上农村籍退役士兵 <span class="badge text-bg-secondary">已终止</span>',
        "2020-01-01 至 2023-12-31",
        "3 年",
    ]:
        assert text in html, text
    award_link = reverse("beneficiaries:award_add", args=[family_entitlement.pk])
    assert award_link in html
    disabled = person.entitlements.get(category=Category.DISABLED)
    assert reverse("beneficiaries:award_add", args=[disabled.pk]) not in html


def test_the_timeline_shows_events_documents_who_and_corrections(client, office, liaison, person):
    add = StatusChange.objects.create(
        beneficiary=person, kind=ChangeKind.ADD, effective_on=datetime.date(2010, 1, 1), recorded_by=office
    )
    death = StatusChange.objects.create(
        beneficiary=person,
        kind=ChangeKind.DEATH,
        effective_on=datetime.date(2026, 3, 8),
        reason="家属报告",
        document=SimpleUploadedFile("死亡证明.pdf", b"%PDF-1.4\n%%EOF\n"),
        document_name="死亡证明.pdf",
        recorded_by=liaison,
    )
    StatusChange.objects.create(
        beneficiary=person,
        kind=ChangeKind.CORRECTION,
        effective_on=datetime.date(2026, 3, 9),
        reason="误报，本人健在",
        corrects=death,
        recorded_by=office,
    )
    client.force_login(office)
    html = detail(client, person)
    assert "2010-01-01 新增" in html and "2026-03-08 死亡" in html
    assert "家属报告" in html and "误报，本人健在" in html
    assert reverse("beneficiaries:change_document", args=[death.pk]) in html
    assert reverse("beneficiaries:change_document", args=[add.pk]) not in html
    assert "死亡证明.pdf" in html
    assert "张联络员 登记于" in html and "李干事 登记于" in html
    assert "已被更正" in html
    assert "更正 2026-03-08 的“死亡”" in html


def test_a_change_recorded_by_no_account_shows_the_system(client, office, person):
    StatusChange.objects.create(beneficiary=person, kind=ChangeKind.ADD, effective_on=datetime.date(2010, 1, 1))
    client.force_login(office)
    assert "系统 登记于" in detail(client, person)


def test_the_change_history_names_who_changed_what_with_numbers_masked(client, office, person):
    old_id, old_account = person.id_number, person.bank_account
    new_id = valid_id_number("32048119620517003")
    person.id_number = new_id
    person.bank_account = "6228480402564890026"
    person.phone = "13900000002"
    person.status = Status.HELD
    person._history_user = office
    person.save()
    client.force_login(office)
    html = detail(client, person)
    assert "李干事" in html
    assert f"居民身份证号：{mask_id_number(old_id)} → {mask_id_number(new_id)}" in html
    assert f"银行账号：{mask_bank_account(old_account)} → {mask_bank_account('6228480402564890026')}" in html
    assert "联系电话：13800000001 → 13900000002" in html
    assert "状态：在册 → 停发" in html
    assert "新建基本信息" in html and "新建待遇资格（残疾军人）" in html
    for number in (old_id, new_id, old_account, "6228480402564890026"):
        assert number not in html


def test_a_pending_transfer_is_shown(client, office, person, other_county):
    out = StatusChange.objects.create(
        beneficiary=person, kind=ChangeKind.TRANSFER_OUT, effective_on=datetime.date(2026, 2, 1), recorded_by=office
    )
    Transfer.objects.create(beneficiary=person, from_township=person.township, to_county=other_county, out_change=out)
    client.force_login(office)
    assert "跨县迁移待接收：2026-02-01 迁往邻县" in detail(client, person)
    Transfer.objects.update(status=TransferStatus.WITHDRAWN)
    assert "跨县迁移待接收" not in detail(client, person)


@pytest.mark.parametrize("who", ["office", "director", "liaison"])
def test_editors_see_the_edit_buttons(client, personas, person, family_entitlement, who):
    client.force_login(personas[who])
    html = detail(client, person)
    for name in ("edit", "entitlement_add", "change_add"):
        assert reverse(f"beneficiaries:{name}", args=[person.pk]) in html
    assert reverse("beneficiaries:award_add", args=[family_entitlement.pk]) in html


def test_the_leader_reads_the_page_without_any_button(client, leader, person, family_entitlement):
    client.force_login(leader)
    html = detail(client, person)
    assert "王建国" in html and "王小兵" in html
    for name in ("edit", "entitlement_add", "change_add"):
        assert reverse(f"beneficiaries:{name}", args=[person.pk]) not in html
    assert reverse("beneficiaries:award_add", args=[family_entitlement.pk]) not in html
    assert "显示完整号码" not in html
    assert mask_id_number(person.id_number) in html


@pytest.mark.parametrize("who", ["outsider", "bureau_liaison"])
def test_people_outside_the_scope_get_404(client, personas, person, who):
    client.force_login(personas[who])
    assert client.get(reverse("beneficiaries:detail", args=[person.pk])).status_code == 404


def test_a_liaison_of_another_township_gets_404(client, other_township, person):
    client.force_login(make_user("yahui", other_township, Role.LIAISON))
    assert client.get(reverse("beneficiaries:detail", args=[person.pk])).status_code == 404


def test_the_page_query_count_does_not_grow_with_the_record(
    client, office, person, family_entitlement, django_assert_max_num_queries
):
    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        detail(client, person)
    for n in range(10):
        StatusChange.objects.create(
            beneficiary=person,
            kind=ChangeKind.CONFIRM,
            effective_on=datetime.date(2010 + n, 3, 1),
            year=2010 + n,
            recorded_by=office,
        )
        Award.objects.create(
            entitlement=family_entitlement, level=AwardLevel.EXCELLENT, awarded_on=datetime.date(2025, 1, n + 1)
        )
        person.phone = f"1380000{n:04d}"
        person._history_user = office
        person.save()
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = detail(client, person)
    assert "2019 年度" in html
