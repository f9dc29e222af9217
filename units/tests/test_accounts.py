import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from conftest import make_user
from units.constants import AuditAction, Role
from units.models import AuditEvent, Membership, UserProfile

User = get_user_model()


def login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def shown_password(response):
    return re.search(r'id="one-time-password">([^<]+)<', response.content.decode()).group(1)


def create_liaison(client, unit, username="wang.ll"):
    return client.post(
        reverse("accounts:create"),
        {"username": username, "full_name": "王联络员", "phone": "13800000000", "unit": unit.pk, "role": Role.LIAISON},
    )


def audit_text():
    return " ".join(f"{e.username} {e.detail}" for e in AuditEvent.objects.all())


def test_office_creates_a_liaison_and_sees_the_password_once(client, office, township, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(office)
    response = create_liaison(client, township)
    password = shown_password(response)

    user = User.objects.get(username="wang.ll")
    assert user.check_password(password)
    assert user.profile.full_name == "王联络员" and user.profile.must_change_password
    assert Membership.objects.get(user=user).unit == township
    assert "no-store" in response["Cache-Control"]
    assert password not in client.get(reverse("accounts:detail", args=[user.pk])).content.decode()
    assert password not in str(dict(client.session)) and password not in str(client.cookies)
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CREATED, actor=office, target=user).exists()
    assert password not in audit_text()
    assert "account_created user=wang.ll" in caplog.text
    assert password not in caplog.text


def test_the_one_time_password_works_once_and_forces_a_new_password(client, office, township):
    client.force_login(office)
    password = shown_password(create_liaison(client, township))

    newcomer = Client()
    assert login(newcomer, "wang.ll", password).status_code == 302
    assert newcomer.get(reverse("home")).url == reverse("accounts:password_change")
    assert newcomer.get(reverse("units:list")).url == reverse("accounts:password_change")
    response = newcomer.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": "Hongqi-Village-2026", "new_password2": "Hongqi-Village-2026"},
    )
    assert response.url == reverse("home")
    assert newcomer.get(reverse("home")).status_code == 200
    assert not UserProfile.objects.get(user__username="wang.ll").must_change_password

    assert login(Client(), "wang.ll", password).status_code == 200
    assert login(Client(), "wang.ll", "Hongqi-Village-2026").status_code == 302


def test_office_creates_an_office_account_for_its_own_unit_only(client, office, county, township):
    client.force_login(office)
    data = {"username": "xiaozhou", "full_name": "周干事", "phone": "", "unit": township.pk, "role": Role.OFFICE}
    response = client.post(reverse("accounts:create"), data)
    assert "只能为您本人所在的双拥办创建双拥办工作人员账号" in response.content.decode()
    assert not User.objects.filter(username="xiaozhou").exists()

    response = client.post(reverse("accounts:create"), {**data, "unit": county.pk})
    assert response.status_code == 200 and shown_password(response)
    assert Membership.objects.get(user__username="xiaozhou").role == Role.OFFICE


def test_a_tampered_unit_id_is_refused(client, office, other_county):
    client.force_login(office)
    response = create_liaison(client, other_county)
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not User.objects.filter(username="wang.ll").exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CREATED).exists()


@pytest.mark.parametrize(
    ("username", "message"),
    [("LIAISON", "已被使用"), ("王五", "3–30 位英文字母"), ("ab", "3–30 位英文字母"), ("a b c", "3–30 位英文字母")],
)
def test_a_bad_or_taken_username_is_refused(client, office, liaison, township, username, message):
    client.force_login(office)
    response = create_liaison(client, township, username=username)
    assert message in response.content.decode()
    assert User.objects.count() == 2


def test_a_bad_phone_is_refused(client, office, township):
    client.force_login(office)
    data = {"username": "wang.ll", "full_name": "王联络员", "phone": "call me", "unit": township.pk, "role": "liaison"}
    assert "电话格式不正确" in client.post(reverse("accounts:create"), data).content.decode()
    assert not User.objects.filter(username="wang.ll").exists()


def test_office_lists_and_searches_the_accounts_of_its_county(client, office, liaison, bureau_liaison, outsider):
    client.force_login(office)
    page = client.get(reverse("accounts:list")).content.decode()
    assert "张联络员" in page and "赵联络员" in page and "溧东镇（单位联络员）" in page
    assert "外县干事" not in page
    page = client.get(reverse("accounts:list"), {"q": "赵"}).content.decode()
    assert "赵联络员" in page and "张联络员" not in page
    assert "bureau_liaison" in client.get(reverse("accounts:list"), {"q": "BUREAU"}).content.decode()


def test_only_office_staff_see_account_management_in_the_menu(client, office, liaison):
    client.force_login(office)
    assert reverse("accounts:list") in client.get(reverse("home")).content.decode()
    client.force_login(liaison)
    assert reverse("accounts:list") not in client.get(reverse("home")).content.decode()


def test_account_list_query_count_does_not_grow(client, office, township, django_assert_max_num_queries):
    for n in range(30):
        make_user(f"liaison{n}", township, Role.LIAISON)
    client.force_login(office)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:list"))
    assert "liaison29" in response.content.decode()


@pytest.mark.parametrize("who", ["leader", "liaison", "bureau_liaison"])
def test_non_office_users_get_404_on_account_pages(client, personas, township, who):
    client.force_login(personas[who])
    target = personas["liaison"] if who != "liaison" else personas["bureau_liaison"]
    assert client.get(reverse("accounts:list")).status_code == 404
    assert client.get(reverse("accounts:create")).status_code == 404
    assert create_liaison(client, township).status_code == 404
    assert client.get(reverse("accounts:detail", args=[target.pk])).status_code == 404
    assert client.post(reverse("accounts:reset_password", args=[target.pk])).status_code == 404
    assert client.post(reverse("accounts:toggle_active", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.is_active and not target.profile.must_change_password


def test_outsider_gets_404_on_the_accounts_of_the_county(client, outsider, liaison, office):
    client.force_login(outsider)
    assert "张联络员" not in client.get(reverse("accounts:list")).content.decode()
    for account in (liaison, office):
        assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 404
        assert client.post(reverse("accounts:reset_password", args=[account.pk])).status_code == 404
        assert client.post(reverse("accounts:toggle_active", args=[account.pk])).status_code == 404
    liaison.refresh_from_db()
    assert liaison.is_active and not AuditEvent.objects.exclude(action=AuditAction.LOGIN).exists()


def test_an_account_partly_outside_the_scope_is_not_managed(client, office, liaison, other_county):
    Membership.objects.create(user=liaison, unit=other_county, role=Role.LEADER)
    orphan = User.objects.create_user("orphan", password="x-Orphan-2025")
    admin = make_user("county_admin", office.memberships.get().unit, Role.OFFICE)
    admin.is_superuser = admin.is_staff = True
    admin.save()
    client.force_login(office)
    page = client.get(reverse("accounts:list")).content.decode()
    assert "张联络员" not in page and "orphan" not in page and "county_admin" not in page
    for account in (liaison, orphan, admin):
        assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 404
        assert client.post(reverse("accounts:reset_password", args=[account.pk])).status_code == 404


def test_reset_shows_a_new_password_and_ends_existing_sessions(client, office, liaison, caplog):
    caplog.set_level(logging.DEBUG)
    liaison_client = Client()
    assert login(liaison_client, "liaison", "Shuangyong-test-2025").status_code == 302
    assert liaison_client.get(reverse("home")).status_code == 200

    client.force_login(office)
    response = client.post(reverse("accounts:reset_password", args=[liaison.pk]))
    password = shown_password(response)
    assert "no-store" in response["Cache-Control"]

    assert liaison_client.get(reverse("home")).url.startswith(reverse("login"))
    assert login(Client(), "liaison", "Shuangyong-test-2025").status_code == 200
    fresh = Client()
    assert login(fresh, "liaison", password).status_code == 302
    assert fresh.get(reverse("home")).url == reverse("accounts:password_change")
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_RESET, actor=office, target=liaison).exists()
    assert password not in audit_text()
    assert password not in caplog.text


def test_office_cannot_reset_its_own_password_there(client, office):
    client.force_login(office)
    response = client.post(reverse("accounts:reset_password", args=[office.pk]), follow=True)
    assert "不能重置自己的密码" in response.content.decode()
    office.refresh_from_db()
    assert office.check_password("Shuangyong-test-2025")


def test_only_a_director_resets_a_directors_password(client, office, director):
    client.force_login(office)
    response = client.post(reverse("accounts:reset_password", args=[director.pk]), follow=True)
    assert "主任的账号只能由主任或系统管理员处理" in response.content.decode()
    director.refresh_from_db()
    assert director.check_password("Shuangyong-test-2025")
    client.force_login(director)
    assert shown_password(client.post(reverse("accounts:reset_password", args=[office.pk])))


def test_a_deactivated_user_cannot_log_in_and_loses_the_session(client, office, liaison):
    liaison_client = Client()
    login(liaison_client, "liaison", "Shuangyong-test-2025")
    client.force_login(office)

    response = client.post(reverse("accounts:toggle_active", args=[liaison.pk]), follow=True)
    assert "已停用“张联络员”的账号" in response.content.decode()
    liaison.refresh_from_db()
    assert not liaison.is_active
    assert liaison_client.get(reverse("home")).url.startswith(reverse("login"))
    assert login(Client(), "liaison", "Shuangyong-test-2025").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_DEACTIVATED, target=liaison).exists()

    client.post(reverse("accounts:toggle_active", args=[liaison.pk]))
    liaison.refresh_from_db()
    assert liaison.is_active
    assert liaison_client.get(reverse("home")).url.startswith(reverse("login"))
    assert login(Client(), "liaison", "Shuangyong-test-2025").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_ACTIVATED, target=liaison).exists()


def test_office_cannot_deactivate_itself(client, office):
    client.force_login(office)
    response = client.post(reverse("accounts:toggle_active", args=[office.pk]), follow=True)
    assert "不能停用自己的账号" in response.content.decode()
    office.refresh_from_db()
    assert office.is_active


def test_account_detail_shows_the_security_log(client, office, liaison):
    login(Client(), "liaison", "wrong-password-1")
    client.force_login(office)
    client.post(reverse("accounts:reset_password", args=[liaison.pk]))
    page = client.get(reverse("accounts:detail", args=[liaison.pk])).content.decode()
    assert "张联络员" in page and "溧东镇（单位联络员）" in page
    assert "重置密码" in page and "登录失败" in page and "下次登录须修改密码" in page
