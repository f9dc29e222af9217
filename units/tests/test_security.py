import datetime
import json
import logging
import os
import re
import secrets
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
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


def example_env():
    """The variables of deploy/shuangyong.env.example, with a real-looking key and admin path put in."""
    values = {}
    for line in (settings.BASE_DIR / "deploy" / "shuangyong.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    values.update(SECRET_KEY=secrets.token_urlsafe(50), ADMIN_URL=f"houtai-{secrets.token_hex(6)}/")
    return values


def run_with_env(env_values, *args):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_values, DJANGO_SETTINGS_MODULE="shuangyong.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


# What the example environment turns on; applied with override_settings to test real pages.
PRODUCTION_SETTINGS = [
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "AXES_IPWARE_PROXY_COUNT",
    "AXES_IPWARE_META_PRECEDENCE_ORDER",
    "MEDIA_X_ACCEL_REDIRECT",
    "DEBUG",
]


@pytest.fixture(scope="module")
def production():
    """The settings that deploy/shuangyong.env.example gives, read in a fresh process."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {PRODUCTION_SETTINGS!r}}}))"
    )
    env = example_env()
    result = run_with_env(env, "-c", code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def test_check_deploy_with_the_example_env_has_no_warnings():
    result = run_with_env(example_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "no issues" in output


def test_production_without_admin_url_has_no_admin():
    env = {**example_env(), "ADMIN_URL": ""}
    code = "\n".join(
        [
            "import django; django.setup()",
            "from django.conf import settings; from django.urls import resolve, Resolver404",
            "try:\n    resolve('/admin/'); print('admin mounted')",
            "except Resolver404:\n    print('admin off', repr(settings.ADMIN_URL))",
        ]
    )
    result = run_with_env(env, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "admin off ''"


def test_production_pages_carry_security_headers_and_secure_cookies(production, liaison):
    host = production["ALLOWED_HOSTS"][0]
    with override_settings(**production):
        browser = Client(HTTP_HOST=host)
        plain = browser.get(reverse("login"))
        assert plain.status_code == 301 and plain.url == f"https://{host}{reverse('login')}"

        # nginx tells Django the request came over HTTPS.
        https = {"HTTP_X_FORWARDED_PROTO": "https", "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.3.3.3"}
        page = browser.get(reverse("login"), **https)
        assert page.status_code == 200
        policy = dict(
            (directive.split()[0], directive.split()[1:])
            for directive in page["Content-Security-Policy"].split(";")
            if directive.strip()
        )
        for directive in ("script-src", "style-src", "default-src"):
            assert policy[directive] == ["'self'"], directive
        assert "unsafe-inline" not in page["Content-Security-Policy"]
        assert "unsafe-eval" not in page["Content-Security-Policy"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert inline_code(page.content.decode()) == []
        assert page["X-Content-Type-Options"] == "nosniff"
        assert page["Referrer-Policy"] == "same-origin"
        assert page["X-Frame-Options"] == "DENY"
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"

        csrf_cookie = page.cookies[settings.CSRF_COOKIE_NAME]
        assert csrf_cookie["secure"] is True and csrf_cookie["samesite"] == "Lax"
        response = browser.post(reverse("login"), {"username": "liaison", "password": PASSWORD}, **https)
        assert response.status_code == 302
        session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert session_cookie["secure"] is True and session_cookie["httponly"] is True
        assert session_cookie["samesite"] == "Lax"
        assert browser.get(reverse("home"), **https).status_code == 200


def test_behind_nginx_the_lockout_keys_on_the_client_address(production, liaison, office):
    def through_nginx(client, username, password, client_ip):
        # nginx overwrites X-Forwarded-For with the address it sees; gunicorn sees nginx on loopback.
        return login(
            client,
            username,
            password,
            ip="127.0.0.1",
            HTTP_X_FORWARDED_FOR=client_ip,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_HOST=production["ALLOWED_HOSTS"][0],
        )

    with override_settings(**production):
        for _ in range(5):
            response = through_nginx(Client(), "liaison", WRONG, "203.0.113.5")
        assert response.status_code == 429
        assert through_nginx(Client(), "liaison", PASSWORD, "203.0.113.5").status_code == 429
        # Colleagues in the same office behind the same nginx are not locked out.
        assert through_nginx(Client(), "liaison", PASSWORD, "203.0.113.6").status_code == 302
        assert through_nginx(Client(), "office", PASSWORD, "203.0.113.5").status_code == 302
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, username="liaison")
    assert set(failures.values_list("ip_address", flat=True)) == {"203.0.113.5"}
