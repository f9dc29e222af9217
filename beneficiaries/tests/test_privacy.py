import datetime
import logging

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from beneficiaries.constants import AccessKind
from beneficiaries.models import AccessLog, Beneficiary
from conftest import make_user, valid_id_number
from shuangyong.lib.idcard import mask_bank_account, mask_id_number
from units.constants import Role
from units.services import REVEAL_GROUP_NAME, reveal_group

ACCOUNT = "6228480402564890018"


def grant(user):
    user.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))


def reveal(client, person, field="id_number", ip="10.1.2.3"):
    return client.post(reverse("beneficiaries:reveal", args=[person.pk, field]), REMOTE_ADDR=ip)


def holders_on_the_access_log(client):
    html = client.get(reverse("beneficiaries:access_log")).content.decode()
    return html.split("有完整号码查看权限的账号", 1)[1]


@pytest.fixture
def all_logs(caplog):
    """Capture every log record, the security logger (which does not propagate) included."""
    security = logging.getLogger("shuangyong.security")
    security.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    security.removeHandler(caplog.handler)


def test_the_masking_filters_mask_ids_and_accounts(person):
    html = Template("{% load privacy %}{{ p.id_number|mask_id }} {{ p.bank_account|mask_account }}").render(
        Context({"p": person})
    )
    assert html == f"{person.id_number[:4]}**********{person.id_number[-4:]} **** **** **** 0018"
    assert Template("{% load privacy %}[{{ v|mask_id }}]").render(Context({"v": ""})) == "[]"


def test_office_with_the_permission_reveals_the_id_and_one_row_is_logged(client, office, person):
    grant(office)
    client.force_login(office)
    response = reveal(client, person)
    assert response.status_code == 200
    assert person.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.user, log.unit, log.beneficiary, log.kind, log.ip_address) == (
        office,
        person.township,
        person,
        AccessKind.REVEAL_ID,
        "10.1.2.3",
    )


def test_revealing_the_bank_account_logs_a_bank_reveal(client, office, person):
    grant(office)
    client.force_login(office)
    response = reveal(client, person, "bank_account")
    assert ACCOUNT in response.content.decode()
    assert person.id_number not in response.content.decode()
    assert list(AccessLog.objects.values_list("kind", flat=True)) == [AccessKind.REVEAL_BANK]


def test_an_empty_account_reveals_nothing_and_logs_nothing(client, office, person):
    Beneficiary.objects.filter(pk=person.pk).update(bank_account="")
    grant(office)
    client.force_login(office)
    assert reveal(client, person, "bank_account").status_code == 200
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("who", ["leader", "office", "liaison"])
def test_without_the_permission_those_who_see_the_person_get_403(client, personas, person, who):
    client.force_login(personas[who])
    response = reveal(client, person)
    assert response.status_code == 403
    assert person.id_number not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_the_leader_sees_no_reveal_button_without_the_permission_and_one_with_it(client, leader, person):
    client.force_login(leader)
    url = reverse("beneficiaries:reveal", args=[person.pk, "id_number"])
    assert url not in client.get(person.get_absolute_url()).content.decode()
    grant(leader)
    html = client.get(person.get_absolute_url()).content.decode()
    assert url in html and "显示完整号码" in html
    assert reveal(client, person).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "bureau_liaison"])
def test_with_the_permission_people_outside_the_scope_get_404(client, personas, person, who):
    grant(personas[who])
    client.force_login(personas[who])
    assert reveal(client, person).status_code == 404
    assert not AccessLog.objects.exists()


def test_an_unknown_field_is_404_and_get_is_405(client, office, person):
    grant(office)
    client.force_login(office)
    assert reveal(client, person, "phone").status_code == 404
    assert client.get(reverse("beneficiaries:reveal", args=[person.pk, "id_number"])).status_code == 405
    assert not AccessLog.objects.exists()


def test_logs_never_hold_a_full_id_or_account(client, office, person, all_logs):
    grant(office)
    client.force_login(office)
    assert reveal(client, person).status_code == 200
    assert reveal(client, person, "bank_account").status_code == 200
    client.get(reverse("beneficiaries:list"))
    client.post(reverse("beneficiaries:list"), {"q": person.id_number})
    client.get(person.get_absolute_url())
    client.get(reverse("beneficiaries:access_log"))
    assert f"reveal field=id_number beneficiary={person.pk} by=office" in all_logs.text
    assert person.id_number not in all_logs.text
    assert person.id_number[:-1] not in all_logs.text
    assert ACCOUNT not in all_logs.text


def test_office_reads_the_access_log_of_its_jurisdiction(client, office, director, liaison, person, other_township_far):
    far = Beneficiary.objects.create(
        name="外县人",
        id_number=valid_id_number("32041319700101001"),
        sex="男",
        birth_date=datetime.date(1970, 1, 1),
        township=other_township_far,
    )
    far_user = make_user("far_office", other_township_far.parent, Role.OFFICE)
    AccessLog.objects.create(user=far_user, unit=other_township_far, beneficiary=far, kind=AccessKind.REVEAL_ID)
    grant(director)
    client.force_login(director)
    reveal(client, person, ip="10.9.9.9")
    client.force_login(office)
    html = client.get(reverse("beneficiaries:access_log")).content.decode()
    assert "王主任" in html and "查看完整身份证号" in html and "10.9.9.9" in html and "王建国" in html
    assert "外县人" not in html
    assert person.id_number not in html
    client.force_login(far_user)
    html = client.get(reverse("beneficiaries:access_log")).content.decode()
    assert "外县人" in html and "王建国" not in html


def test_the_access_log_filters_by_user_kind_and_date(client, office, director, person):
    grant(director)
    grant(office)
    client.force_login(director)
    reveal(client, person)
    client.force_login(office)
    reveal(client, person, "bank_account")
    url = reverse("beneficiaries:access_log")

    def rows(params):
        html = client.get(url, params).content.decode()
        return html.count("<td>10.1.2.3</td>"), html

    assert rows({})[0] == 2
    assert rows({"account": director.pk})[0] == 1
    count, html = rows({"kind": AccessKind.REVEAL_BANK})
    assert count == 1 and "查看完整银行账号</td>" in html
    today = timezone.localdate()
    assert rows({"date_from": today.isoformat(), "date_to": today.isoformat()})[0] == 2
    assert rows({"date_to": (today - datetime.timedelta(days=1)).isoformat()})[0] == 0
    count, html = rows({"date_from": today.isoformat(), "date_to": "2000-01-01"})
    assert "截止日期不能早于起始日期" in html
    count, html = rows({"date_from": "2025-02-30"})
    assert "起始日期格式不正确" in html and count == 2


def test_the_access_log_is_paginated(client, office, person):
    AccessLog.objects.bulk_create(
        AccessLog(user=office, unit=person.township, beneficiary=person, kind=AccessKind.REVEAL_ID) for _ in range(55)
    )
    client.force_login(office)
    html = client.get(reverse("beneficiaries:access_log")).content.decode()
    assert "第 1 / 2 页，共 55 条" in html


@pytest.mark.parametrize("who", ["leader", "liaison", "bureau_liaison"])
def test_others_get_404_on_the_access_log(client, personas, who):
    grant(personas[who])
    client.force_login(personas[who])
    assert client.get(reverse("beneficiaries:access_log")).status_code == 404


def test_office_grants_and_withdraws_the_permission_on_the_account_page(client, office, liaison, person, all_logs):
    client.force_login(office)
    account_url = reverse("accounts:detail", args=[liaison.pk])
    set_url = reverse("accounts:set_reveal", args=[liaison.pk])
    assert "授予权限" in client.get(account_url).content.decode()

    client.post(set_url, {"allowed": "1"}, REMOTE_ADDR="10.0.0.7")
    liaison.refresh_from_db()
    assert liaison.has_perm("beneficiaries.reveal_personal_data")
    assert liaison.groups.filter(name=REVEAL_GROUP_NAME).exists()
    assert "reveal_permission_granted user=liaison by=office ip=10.0.0.7" in all_logs.text
    assert "收回权限" in client.get(account_url).content.decode()
    assert "张联络员" in holders_on_the_access_log(client)

    client.force_login(liaison)
    assert reveal(client, person).status_code == 200

    client.force_login(office)
    client.post(set_url, {"allowed": "0"})
    liaison = type(liaison).objects.get(pk=liaison.pk)
    assert not liaison.has_perm("beneficiaries.reveal_personal_data")
    assert "reveal_permission_withdrawn user=liaison" in all_logs.text
    assert "张联络员" not in holders_on_the_access_log(client)
    client.force_login(liaison)
    assert reveal(client, person).status_code == 403


def test_withdrawing_also_removes_a_directly_given_permission(client, office, liaison):
    grant(liaison)
    client.force_login(office)
    client.post(reverse("accounts:set_reveal", args=[liaison.pk]), {"allowed": "0"})
    liaison = type(liaison).objects.get(pk=liaison.pk)
    assert not liaison.has_perm("beneficiaries.reveal_personal_data")


def test_nobody_grants_the_permission_to_themselves_nor_to_the_director(client, office, director, liaison):
    client.force_login(office)
    response = client.post(reverse("accounts:set_reveal", args=[office.pk]), {"allowed": "1"}, follow=True)
    assert "不能调整自己的个人信息查看权限" in response.content.decode()
    assert not type(office).objects.get(pk=office.pk).has_perm("beneficiaries.reveal_personal_data")
    response = client.post(reverse("accounts:set_reveal", args=[director.pk]), {"allowed": "1"}, follow=True)
    assert "双拥办主任的账号只能由主任或系统管理员处理" in response.content.decode()
    assert not type(director).objects.get(pk=director.pk).has_perm("beneficiaries.reveal_personal_data")


@pytest.mark.parametrize("who", ["leader", "liaison"])
def test_non_office_users_cannot_grant_the_permission(client, personas, who):
    client.force_login(personas[who])
    target = personas["bureau_liaison"]
    assert client.post(reverse("accounts:set_reveal", args=[target.pk]), {"allowed": "1"}).status_code == 404
    assert not target.has_perm("beneficiaries.reveal_personal_data")


def test_the_reveal_group_carries_the_permission(db):
    group = reveal_group()
    assert reveal_group() == group
    assert list(group.permissions.values_list("codename", flat=True)) == ["reveal_personal_data"]


def test_masked_values_are_what_the_reveal_replaces(client, office, person):
    grant(office)
    client.force_login(office)
    html = client.get(person.get_absolute_url()).content.decode()
    assert mask_id_number(person.id_number) in html and mask_bank_account(ACCOUNT) in html
    assert reverse("beneficiaries:reveal", args=[person.pk, "id_number"]) in html
    assert reverse("beneficiaries:reveal", args=[person.pk, "bank_account"]) in html
    assert person.id_number not in html and ACCOUNT not in html
