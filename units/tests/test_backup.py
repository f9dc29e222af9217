"""manage.py backup and restore: complete dated folders, a dump that opens, and a restore drill on PostgreSQL."""

import datetime
import io
import json
import re
import sqlite3
import subprocess
import tarfile
import uuid
from decimal import Decimal
from urllib.parse import quote

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from PIL import Image

from activities import services as activity_services
from activities.tests.conftest import joint_activity
from beneficiaries.constants import AccessKind, Category, PaymentKind
from beneficiaries.models import AccessLog, Beneficiary, Entitlement, Payment
from beneficiaries.tests.payment_helpers import generate, make_standard, mark_paid
from conftest import valid_id_number
from shuangyong import backups
from units.constants import AuditAction
from units.models import AuditEvent

# The SQLite backup API copies committed data only, so tests that back up SQLite commit their data.
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="checks the SQLite copy made by the backup API")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the restore drill needs PostgreSQL (pg_dump, createdb, pg_restore)"
)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("合影.png", buffer.getvalue(), content_type="image/png")


def build_ledger(county, township, office, director):
    """Three people paid for a quarter, an activity with a photo, a security event and a reveal."""
    people = []
    for serial in range(3):
        person = Beneficiary.objects.create(
            name=f"对象{serial}",
            id_number=valid_id_number(f"32048119600101{serial + 101:03d}"),
            sex="男",
            birth_date=datetime.date(1960, 1, 1),
            township=township,
            bank_name="示例县农村商业银行",
            bank_account=f"622848040256489{serial:04d}",
        )
        Entitlement.objects.create(
            beneficiary=person, category=Category.WAR_VETERAN, start_on=datetime.date(2020, 1, 1)
        )
        people.append(person)
    make_standard(county, PaymentKind.LIVING, Category.WAR_VETERAN, "1234.56")
    batch, _ = generate(county, PaymentKind.LIVING, datetime.date(2026, 1, 1), datetime.date(2026, 3, 1), office)
    mark_paid(batch, approver=director, paid_on=datetime.date(2026, 4, 1))
    activity = joint_activity(township, office)
    activity_services.photo_add(activity=activity, file=png(), uploaded_by=office)
    AuditEvent.objects.create(action=AuditAction.LOGIN, actor=office, username=office.username, ip_address="10.0.0.1")
    AccessLog.objects.create(user=office, unit=county, beneficiary=people[0], kind=AccessKind.REVEAL_ID)
    return batch


@pytest.fixture
def ledger(county, township, office, director):
    return build_ledger(county, township, office, director)


def backup_into(dest, **options):
    call_command("backup", dest=str(dest), stdout=io.StringIO(), **options)
    (folder,) = backups.backup_folders(dest)
    return folder


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_holds_the_same_rows_and_the_media(ledger, tmp_path, settings):
    folder = backup_into(tmp_path / "backups")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert re.fullmatch(r"shuangyong-2026-08-10-\d{6}", folder.name)
    assert manifest["database"]["engine"] == "sqlite"
    assert manifest["migrations"]["beneficiaries"].startswith("0")
    for name, expected in manifest["files"].items():
        assert (folder / name).stat().st_size == expected["size"]
    copy = sqlite3.connect(folder / "database.sqlite3")
    rows = copy.execute("SELECT count(*), sum(amount) FROM beneficiaries_payment").fetchone()
    assert rows == (9, Payment.objects.aggregate(total=Sum("amount"))["total"] * 100)
    assert copy.execute("SELECT count(*) FROM beneficiaries_historicalbeneficiary").fetchone() == (3,)
    copy.close()
    stored = sorted(p.relative_to(settings.MEDIA_ROOT).as_posix() for p in settings.MEDIA_ROOT.rglob("*.*"))
    with tarfile.open(folder / "media.tar.gz") as archive:
        assert sorted(archive.getnames()) == stored


def test_a_backup_that_fails_half_way_leaves_no_backup_folder(db, tmp_path, monkeypatch):
    def disk_full(connection, folder):
        (folder / "database.dump").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups, "_dump_database", disk_full)
    with pytest.raises(CommandError, match="备份失败：写入备份失败：.*No space left on device"):
        call_command("backup", dest=str(tmp_path / "backups"))
    assert list((tmp_path / "backups").iterdir()) == []


@on_postgresql
def test_a_missing_pg_dump_is_named_and_leaves_no_folder(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(CommandError, match="未找到 pg_dump，请先安装 PostgreSQL 客户端"):
        call_command("backup", dest=str(tmp_path / "backups"))
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_keep_deletes_all_but_the_newest_backups(tmp_path):
    dest = tmp_path / "backups"
    made = []
    for minute in range(3):
        with time_machine.travel(datetime.datetime(2026, 8, 10, 10, minute), tick=False):
            call_command("backup", dest=str(dest), keep=2, stdout=io.StringIO())
        made.append(backups.backup_folders(dest)[-1].name)
    assert len(set(made)) == 3
    assert [path.name for path in backups.backup_folders(dest)] == made[1:]


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_backup_whose_files_do_not_match_the_manifest(tmp_path):
    folder = backup_into(tmp_path / "backups")
    with open(folder / "media.tar.gz", "ab") as archive:
        archive.write(b"x")
    with pytest.raises(CommandError, match="与清单不符"):
        call_command("restore", source=str(folder), database_url=f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert not (tmp_path / "new.sqlite3").exists()


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    folder = backup_into(tmp_path / "backups")
    target = tmp_path / "in-use.sqlite3"
    sqlite3.connect(target).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CommandError, match="已存在；确认要覆盖请加 --force"):
        call_command("restore", source=str(folder), database_url=f"sqlite:///{target}", media_root=str(tmp_path / "m"))


def psql(url, sql):
    done = subprocess.run(["psql", url, "-Atc", sql], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_passes_verify_integrity(county, township, office, director, tmp_path):
    batch = build_ledger(county, township, office, director)
    folder = backup_into(tmp_path / "backups")
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    server = f"postgres://{quote(db['USER'] or 'postgres')}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    name = f"shuangyong_restore_{uuid.uuid4().hex[:12]}"
    out = io.StringIO()
    try:
        call_command(
            "restore",
            source=str(folder),
            database_url=f"{server}/{name}",
            media_root=str(tmp_path / "restored-media"),
            stdout=out,
        )
        restored = f"{server}/{name}"
        counted = "SELECT count(*), coalesce(sum(amount), 0) FROM beneficiaries_payment"
        payments = Payment.objects.aggregate(total=Sum("amount"))
        assert psql(restored, counted) == f"{Payment.objects.count()}|{int(payments['total'] * 100)}"
        assert payments["total"] == Decimal("1234.56") * 9
        assert psql(restored, "SELECT count(*) FROM units_auditevent") == str(AuditEvent.objects.count())
        assert psql(restored, "SELECT count(*) FROM beneficiaries_accesslog WHERE user_id IS NOT NULL") == "1"
        history = "SELECT count(*) FROM beneficiaries_historicalbeneficiary"
        assert psql(restored, history) == str(Beneficiary.history.count())
        assert psql(restored, f"SELECT status FROM beneficiaries_paymentbatch WHERE id = {batch.pk}") == "paid"
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", f"--maintenance-db={server}/postgres", name], check=False)
    report = out.getvalue()
    assert "恢复完成，完整性核对通过。" in report
    assert "✔ 附件文件齐全：记录引用的 2 个文件均存在" in report
    assert "✘" not in report
