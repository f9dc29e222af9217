"""verify_integrity on the seeded demo: it passes, and each kind of damage makes the check that guards it fail."""

import io
import shutil
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from activities.models import Activity, Photo
from beneficiaries.constants import Basis, BatchStatus
from beneficiaries.models import Beneficiary, Payment
from shuangyong.integrity import run_checks


@pytest.fixture(scope="module")
def demo(module_db):
    """The seeded demo, built once for the module; returns its media folder."""
    call_command("seed_demo", stdout=io.StringIO())
    return module_db


@pytest.fixture
def media(demo, db, settings, tmp_path):
    """A copy of the demo's media for each test, which may damage it (`db`: pytest-django sets up the test
    database only for tests that ask for it)."""
    copy = tmp_path / "demo-media"
    shutil.copytree(demo, copy)
    settings.MEDIA_ROOT = copy
    return copy


def failed():
    return {result.name: result for result in run_checks() if not result.ok}


def verify():
    """(exit status, report) of the command."""
    out = io.StringIO()
    try:
        call_command("verify_integrity", stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_the_seeded_demo_passes_every_check(media):
    status, report = verify()
    assert status == 0, report
    assert report.count("✔") == len(run_checks())
    assert "✘" not in report
    quiet = io.StringIO()
    call_command("verify_integrity", quiet=True, stdout=quiet)
    assert quiet.getvalue() == ""


def test_a_paid_payment_changed_by_one_fen_fails_the_batch_check(media):
    payment = Payment.objects.filter(batch__status=BatchStatus.PAID, standard__basis=Basis.MONTH).first()
    Payment.objects.filter(pk=payment.pk).update(amount=payment.amount + Decimal("0.01"))
    status, report = verify()
    assert status == 1
    assert "完整性核对未通过：1 / " in report
    assert "✘ 发放批次与发放记录" in report
    assert "金额与标准不符 1 条" in report
    assert f"批次 #{payment.batch_id}" in report


def test_a_paid_batch_row_without_the_paid_date_fails_the_batch_check(media):
    payment = Payment.objects.filter(batch__status=BatchStatus.PAID).first()
    Payment.objects.filter(pk=payment.pk).update(paid_on=None)
    assert "已发放批次中未登记发放日期或方式 1 条" in failed()["发放批次与发放记录"].detail


def test_an_activity_money_changed_raw_fails_the_activity_check(media):
    activity = Activity.objects.filter(money__gt=0).first()
    Activity.objects.filter(pk=activity.pk).update(money=activity.money + Decimal("0.01"))
    problems = failed()
    assert list(problems) == ["活动汇总数与明细"]
    assert f"活动 #{activity.pk}" in problems["活动汇总数与明细"].examples[0]


def test_a_visit_whose_ledger_row_changed_fails_the_visit_check(media):
    payment = Payment.objects.filter(visit__isnull=False).first()
    Payment.objects.filter(pk=payment.pk).update(amount=payment.amount + 1)
    assert "1 / " in failed()["走访慰问金与台账"].detail


def test_a_deleted_media_file_fails_the_missing_files_check(media):
    photo = Photo.objects.first()
    (media / photo.image.name).unlink()
    problems = failed()
    assert list(problems) == ["附件文件齐全"]
    assert problems["附件文件齐全"].examples == [photo.image.name]


def test_a_stray_media_file_fails_the_orphan_check(media):
    (media / "activity-photos" / "stray.jpg").write_bytes(b"not referenced")
    (media / "exports").mkdir(exist_ok=True)
    (media / "exports" / "working.xlsx").write_bytes(b"an export waiting for download")
    problems = failed()
    assert list(problems) == ["无孤立文件"]
    assert problems["无孤立文件"].examples == ["activity-photos/stray.jpg"]


def test_a_deleted_history_row_fails_the_history_check(media):
    person = Beneficiary.objects.first()
    person.history.all().delete()
    problems = failed()
    assert list(problems) == ["修改历史"]
    assert "Beneficiary" in problems["修改历史"].examples[0]


def test_a_dropped_unique_constraint_and_a_duplicate_fail_the_constraint_check(media):
    payment = Payment.objects.filter(batch__status=BatchStatus.PAID, is_backpay=False, reference="").first()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX regular_payment_once_per_month")
    Payment.objects.bulk_create([Payment(**{**_row(payment), "batch": None})])
    detail = failed()["数据库约束"].examples
    assert "beneficiaries_payment.regular_payment_once_per_month 缺失，1 行违反" in detail


def _row(payment):
    return {f.name: getattr(payment, f.name) for f in Payment._meta.concrete_fields if not f.primary_key}
