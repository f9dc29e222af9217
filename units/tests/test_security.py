import datetime
import logging
import os
import re
import secrets
import subprocess
import sys

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from units.constants import AuditAction
from units.models import AuditEvent

WRONG = "Not-The-Password-42"


def login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def test_five_wrong_passwords_lock_that_username_on_that_ip(client, office, liaison, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(4):
        assert login(client, "liaison", WRONG, ip="10.1.1.1").status_code == 200
    response = login(client, "liaison", WRONG, ip="10.1.1.1")
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()

    assert login(Client(), "liaison", PASSWORD, ip="10.2.2.2").status_code == 302
    assert login(Client(), "office", PASSWORD, ip="10.1.1.1").status_code == 302
    assert login(Client(), "liaison", PASSWORD, ip="10.1.1.1").status_code == 429
    # A forged proxy header does not make a locked client look like another one.
    assert login(Client(), "liaison", PASSWORD, ip="10.1.1.1", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429

    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, username="liaison", ip_address="10.1.1.1")
    assert failures.count() >= 5
    assert AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT, username="liaison").exists()
    assert not any(WRONG in f"{e.username} {e.detail}" for e in AuditEvent.objects.all())
    assert WRONG not in caplog.text and PASSWORD not in caplog.text


def test_four_wrong_passwords_do_not_lock(client, liaison):
    for _ in range(4):
        login(client, "liaison", WRONG, ip="10.1.1.1")
    assert login(client, "liaison", PASSWORD, ip="10.1.1.1").status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_logout_invalidates_the_session_cookie(client, liaison):
    login(client, "liaison", PASSWORD)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, target=liaison).exists()


def test_a_session_idle_for_two_hours_expires_and_an_active_one_lives_on(liaison):
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    idle, active = Client(), Client()
    with time_machine.travel(start, tick=False) as clock:
        login(idle, "liaison", PASSWORD)
        login(active, "liaison", PASSWORD, ip="10.0.0.2")
        clock.shift(datetime.timedelta(minutes=90))
        assert active.get(reverse("home")).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = idle.get(reverse("home"))
        clock.shift(datetime.timedelta(minutes=88))
        assert active.get(reverse("home")).status_code == 200
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_password_change_ends_the_other_sessions(liaison, caplog):
    caplog.set_level(logging.DEBUG)
    here, elsewhere = Client(), Client()
    login(here, "liaison", PASSWORD)
    login(elsewhere, "liaison", PASSWORD, ip="10.0.0.2")
    new_password = "Dongcun-Liaison-2026"
    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.url == reverse("home")
    assert here.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home")).url.startswith(reverse("login"))
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED, target=liaison).exists()
    assert new_password not in caplog.text and PASSWORD not in caplog.text


def inline_code(html):
    """Return what the CSP would block: inline scripts, style attributes and on* handlers."""
    return (
        re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html)
        + re.findall(r"<[^>]+\sstyle=[\"'][^>]*>", html)
        + re.findall(r"<[^>]+\son[a-z]+\s*=[^>]*>", html)
    )


def test_pages_carry_a_strict_csp_and_no_inline_code(client, office, liaison, township, village, group, pairing):
    anonymous = Client().get(reverse("login"))
    client.force_login(office)
    pages = {
        "login": anonymous,
        "home": client.get(reverse("home")),
        "unit list": client.get(reverse("units:list")),
        "unit detail": client.get(township.get_absolute_url()),
        "account list": client.get(reverse("accounts:list")),
        "account detail": client.get(reverse("accounts:detail", args=[liaison.pk])),
        "account form": client.get(reverse("accounts:create")),
        "one-time password": client.post(reverse("accounts:reset_password", args=[liaison.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        policy = response["Content-Security-Policy"]
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert inline_code(response.content.decode()) == [], name


def test_anonymous_requests_are_sent_to_login(client, township, liaison):
    for url in (
        township.get_absolute_url(),
        reverse("units:list"),
        reverse("accounts:list"),
        reverse("accounts:detail", args=[liaison.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_admin_is_closed_to_non_staff_users(client, office):
    client.force_login(office)
    admin_index = reverse("admin:index")
    for url in (admin_index, reverse("admin:auth_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    response = client.post(reverse("admin:login"), {"username": "office", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 200 and "请输入一个" in response.content.decode()


def test_check_deploy_with_production_settings_has_no_warnings():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shuangyong.example.gov.cn",
        DJANGO_SETTINGS_MODULE="shuangyong.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "no issues" in output
