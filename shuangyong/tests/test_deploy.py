"""The deploy/ folder and what it relies on: nginx, gunicorn, systemd, the example environment, protected media,
upload limits and the admin."""

import datetime
import importlib
import io
import re
import runpy

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse
from PIL import Image

from activities import services as activity_services
from activities.tests.conftest import joint_activity
from conftest import PASSWORD
from units import services as unit_services
from units.models import Agreement

DEPLOY = django_settings.BASE_DIR / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "shuangyong.conf"
ENV_EXAMPLE = DEPLOY / "shuangyong.env.example"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
UNITS = {"k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024, "": 1}


def example_env():
    """Return the variables of deploy/shuangyong.env.example as systemd's EnvironmentFile reads them."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def nginx_site():
    return NGINX_SITE.read_text(encoding="utf-8")


def nginx_location(conf, prefix):
    """Return the bodies of every `location <prefix>` block (both server blocks), joined."""
    bodies = re.findall(r"location\s+" + re.escape(prefix) + r"\s*\{([^}]*)\}", conf)
    assert bodies, f"nginx site has no location {prefix}"
    return "\n".join(bodies)


def nginx_size(value):
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * UNITS[unit]


def pdf_file(name="共建协议.pdf", size=None):
    content = PDF if size is None else PDF + b"0" * (size - len(PDF))
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_file(name="合影.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# nginx, gunicorn, systemd and the example environment


def test_nginx_body_limit_covers_the_largest_django_upload_limit_and_little_more():
    env = example_env()
    sizes = re.findall(r"^\s*client_max_body_size\s+(\w+);", nginx_site(), re.MULTILINE)
    assert len(sizes) == 1
    nginx_limit = nginx_size(sizes[0])
    limits = [
        int(env["UPLOAD_MAX_REQUEST_BYTES"]),
        int(env["UPLOAD_MAX_BYTES"]),
        int(env["PHOTO_MAX_BYTES"]),
        int(env["EXCEL_MAX_UPLOAD_BYTES"]),
        django_settings.UPLOAD_MAX_REQUEST_BYTES,
        django_settings.UPLOAD_MAX_BYTES,
        django_settings.PHOTO_MAX_BYTES,
        django_settings.EXCEL_MAX_UPLOAD_BYTES,
        django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    ]
    assert max(limits) <= nginx_limit <= max(limits) * 1.1
    # A whole request may carry several files: the request limit is the largest.
    assert int(env["UPLOAD_MAX_REQUEST_BYTES"]) == max(limits)


def test_nginx_serves_no_public_media_and_protected_media_only_internally():
    conf, env = nginx_site(), example_env()
    assert "return 404" in nginx_location(conf, "/media/")
    protected = nginx_location(conf, env["MEDIA_X_ACCEL_REDIRECT"])
    assert re.search(r"^\s*internal;", protected, re.MULTILINE)
    assert f"alias {env['MEDIA_ROOT'].rstrip('/')}/;" in protected
    assert f"alias {env['STATIC_ROOT'].rstrip('/')}/;" in nginx_location(conf, "/static/")
    # HSTS comes from Django (SECURE_HSTS_SECONDS) and only from there.
    assert "Strict-Transport-Security" not in conf and int(env["SECURE_HSTS_SECONDS"]) >= 31536000
    assert "return 301 https://" in conf
    assert re.search(r"ssl_protocols\s+TLSv1\.2 TLSv1\.3;", conf)
    app = nginx_location(conf, "/")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in app
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in app


def test_gunicorn_listens_on_loopback_and_logs_no_query_strings(monkeypatch):
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["bind"] == "127.0.0.1:8001"
    assert 2 <= conf["workers"] <= 8
    assert conf["timeout"] >= 60 and conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert set(conf["forwarded_allow_ips"].split(",")) <= {"127.0.0.1", "::1"}
    # %(r)s is the request line with its query, %(q)s the query, %(f)s the referrer (which may carry a query).
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(a)s"):
        assert atom not in conf["access_log_format"]
    assert "%(U)s" in conf["access_log_format"]
    # Behind nginx the proxy timeout outlasts gunicorn's, so a long PDF is not cut off by nginx first.
    read_timeout = re.search(r"proxy_read_timeout\s+(\d+)s;", nginx_site()).group(1)
    assert int(read_timeout) > conf["timeout"]


def test_systemd_units_run_unprivileged_and_hardened_with_the_env_file():
    env = example_env()
    for name, command in (
        ("shuangyong-web.service", "gunicorn -c /srv/shuangyong/deploy/gunicorn.conf.py"),
        ("shuangyong-worker@.service", "manage.py db_worker"),
    ):
        unit = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        lines = set(unit.splitlines())
        assert command in unit, name
        for line in (
            "User=shuangyong",
            "EnvironmentFile=/etc/shuangyong/shuangyong.env",
            "Restart=always",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
        ):
            assert line in lines, (name, line)
        writable = next(line for line in lines if line.startswith("ReadWritePaths="))
        assert env["MEDIA_ROOT"] in writable.split("=", 1)[1].split()


def test_the_example_env_sets_every_variable_the_settings_read():
    source = (django_settings.BASE_DIR / "shuangyong" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"(?:os\.environ\.get|env_bool|env_list)\(\s*\"([A-Z0-9_]+)\"", source))
    assert {"SECRET_KEY", "DATABASE_URL", "ADMIN_URL", "MEDIA_X_ACCEL_REDIRECT"} <= read
    assert read - set(example_env()) == set()


def test_make_audit_fails_on_a_finding_and_says_unchecked_when_the_database_does_not_answer():
    verdict = runpy.run_path(str(django_settings.BASE_DIR / "scripts" / "audit.py"))["verdict"]
    finding = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": [{"id": "PYSEC-2026-1", "fix_versions": ["5.2.20"]}]},
            {"name": "pillow", "version": "13.0.0", "vulns": []},
        ]
    }
    code, lines = verdict(finding)
    assert code == 1 and "django 5.2.19：PYSEC-2026-1，修复版本 5.2.20" in "\n".join(lines)

    unanswered = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}
    code, lines = verdict(unanswered)
    assert code == 0 and lines[0].startswith("未检查")

    code, lines = verdict({"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]})
    assert code == 0 and lines == ["已检查 1 个软件包，未发现已知漏洞。"]


# Protected media: one answer for every stored file, with nginx or without


@pytest.fixture
def agreement(office, pairing):
    return unit_services.agreement_add(
        pairing=pairing, signed_on=datetime.date(2025, 3, 5), file=pdf_file("共建协议.pdf"), uploaded_by=office
    )


@pytest.fixture
def photo(office, township):
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        activity = joint_activity(township, office)
        return activity_services.photo_add(activity=activity, file=png_file(), uploaded_by=office)


def test_files_go_through_nginx_with_x_accel_redirect_when_configured(client, office, outsider, agreement, photo):
    client.force_login(office)
    with override_settings(MEDIA_X_ACCEL_REDIRECT="/protected-media/"):
        response = client.get(reverse("units:agreement_file", args=[agreement.pk]))
        assert response.status_code == 200
        assert response["X-Accel-Redirect"] == f"/protected-media/{agreement.file.name}"
        assert response.content == b""
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''%E5%85%B1%E5%BB%BA%E5%8D%8F%E8%AE%AE.pdf" in response["Content-Disposition"]
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"

        image = client.get(reverse("activities:photo", args=[photo.pk]))
        assert image["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
        assert image["Content-Type"] == photo.content_type
        assert image["Content-Disposition"].startswith("inline;")
        assert image.content == b""

        # The access check still comes first.
        client.force_login(outsider)
        assert client.get(reverse("units:agreement_file", args=[agreement.pk])).status_code == 404
        assert client.get(reverse("activities:photo", args=[photo.pk])).status_code == 404


def test_files_are_streamed_by_django_without_nginx(client, office, outsider, agreement, photo):
    assert django_settings.MEDIA_X_ACCEL_REDIRECT == ""
    client.force_login(office)
    response = client.get(reverse("units:agreement_file", args=[agreement.pk]))
    assert response.status_code == 200 and "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    image = client.get(reverse("activities:photo", args=[photo.pk]))
    assert "X-Accel-Redirect" not in image and image["Content-Disposition"].startswith("inline;")
    assert b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    client.force_login(outsider)
    assert client.get(reverse("units:agreement_file", args=[agreement.pk])).status_code == 404


def test_a_missing_file_is_404_in_both_modes(client, office, agreement):
    agreement.file.storage.delete(agreement.file.name)
    client.force_login(office)
    url = reverse("units:agreement_file", args=[agreement.pk])
    assert client.get(url).status_code == 404
    with override_settings(MEDIA_X_ACCEL_REDIRECT="/protected-media/"):
        assert client.get(url).status_code == 404


# Upload limits and the daily quota


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(client, office, pairing, settings):
    settings.UPLOAD_MAX_REQUEST_BYTES = 4096
    client.force_login(office)
    response = client.post(
        reverse("units:agreement_add", args=[pairing.pk]),
        {"signed_on": "2025-03-05", "file": pdf_file("扫描件.pdf", size=8192)},
    )
    assert response.status_code == 413
    assert "一次提交的内容超过 4 KB 上限" in response.content.decode()
    assert not Agreement.objects.exists()


def test_the_daily_upload_quota_counts_the_users_stored_files(client, office, liaison, pairing, settings):
    settings.UPLOAD_QUOTA_BYTES_PER_DAY = 3 * 1024
    client.force_login(office)
    url = reverse("units:agreement_add", args=[pairing.pk])
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False) as clock:
        first = client.post(url, {"signed_on": "2025-03-05", "file": pdf_file("一.pdf", size=2048)})
        assert first.status_code == 302 and first.url == pairing.get_absolute_url()
        refused = client.post(url, {"signed_on": "2025-03-05", "file": pdf_file("二.pdf", size=2048)})
        assert refused.status_code == 200
        assert "今日上传已达 2 KB，每人每天最多上传 3 KB" in refused.content.decode()
        assert Agreement.objects.count() == 1
        # Another user has a quota of their own, and tomorrow the office's starts afresh.
        unit_services.agreement_add(
            pairing=pairing, signed_on=datetime.date(2025, 3, 5), file=pdf_file(size=2048), uploaded_by=liaison
        )
        clock.shift(datetime.timedelta(days=1))
        client.force_login(office)
        tomorrow = client.post(url, {"signed_on": "2025-03-05", "file": pdf_file("二.pdf", size=2048)})
        assert tomorrow.status_code == 302 and tomorrow.url == pairing.get_absolute_url()
    assert Agreement.objects.count() == 3


def test_the_quota_covers_a_batch_of_photos(office, township, settings):
    settings.UPLOAD_QUOTA_BYTES_PER_DAY = 1
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        activity = joint_activity(township, office, title="植树")
        with pytest.raises(ValidationError) as refused:
            activity_services.photos_add(
                activity=activity, files=[png_file("一.png"), png_file("二.png")], uploaded_by=office
            )
    assert "每人每天最多上传 1 字节" in refused.value.message_dict["photos"][0]
    assert not activity.photos.exists()


# Django admin: superusers only, at the configured path


@pytest.fixture
def admin_at():
    """Mount the admin at another path for one test, then put the URLs back."""
    import shuangyong.urls

    def mount(path):
        with override_settings(ADMIN_URL=path):
            importlib.reload(shuangyong.urls)
        clear_url_caches()

    yield mount
    importlib.reload(shuangyong.urls)
    clear_url_caches()


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="root", password=PASSWORD)


def test_a_superuser_gets_into_the_admin_at_the_configured_path(client, admin_at, superuser):
    admin_at("houtai-7f3k9q/")
    assert reverse("admin:index") == "/houtai-7f3k9q/"
    response = client.post(
        "/houtai-7f3k9q/login/?next=/houtai-7f3k9q/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 302 and response.url == "/houtai-7f3k9q/"
    assert client.get("/houtai-7f3k9q/").status_code == 200
    assert client.get("/houtai-7f3k9q/auth/user/").status_code == 200
    assert client.get("/admin/").status_code == 404


def test_a_staff_user_who_is_no_superuser_is_refused(client, admin_at, office):
    admin_at("houtai-7f3k9q/")
    office.is_staff = True
    office.save()
    response = client.post(
        "/houtai-7f3k9q/login/", {"username": "office", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 200
    assert "后台管理仅限系统管理员（超级用户）登录" in response.content.decode()
    client.force_login(office)
    for url in ("/houtai-7f3k9q/", "/houtai-7f3k9q/auth/user/", f"/houtai-7f3k9q/auth/user/{office.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/houtai-7f3k9q/login/"), url


def test_without_admin_url_the_admin_is_off(client, admin_at, superuser):
    admin_at("")
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("admin:index")
    assert Client().get(reverse("home")).status_code == 302
