import datetime
import threading
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from beneficiaries.constants import Category, ChangeKind, DisabilityNature, Status
from beneficiaries.models import Entitlement, StatusChange
from beneficiaries.services import change_record, derive_status, entitlement_add, last_day_of_month

TODAY = datetime.date(2026, 6, 20)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
K = ChangeKind


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 20, 10, 0), tick=False):
        yield


def d(month, day, year=2026):
    return datetime.date(year, month, day)


# derive_status: a pure function of the ordered events


def events(*specs):
    """Build events from (kind, date) or (kind, date, corrects_index) tuples, numbered from 1."""
    built = []
    for pk, spec in enumerate(specs, start=1):
        kind, on, *rest = spec
        corrects_id = built[rest[0]].pk if rest else None
        built.append(SimpleNamespace(pk=pk, kind=kind, effective_on=on, corrects_id=corrects_id))
    return built


def test_no_events_means_active_without_a_date():
    assert derive_status([]) == (Status.ACTIVE, None)


@pytest.mark.parametrize(
    "kind, status",
    [
        (K.ADD, Status.ACTIVE),
        (K.TRANSFER_IN, Status.ACTIVE),
        (K.SUSPEND, Status.SUSPENDED),
        (K.HOLD, Status.HELD),
        (K.TRANSFER_OUT, Status.TRANSFERRED),
        (K.CANCEL, Status.CANCELLED),
        (K.DEATH, Status.DECEASED),
    ],
)
def test_each_kind_leads_to_its_status(kind, status):
    assert derive_status(events((K.ADD, d(1, 1)), (kind, d(3, 5)))) == (status, d(3, 5))


def test_resume_returns_to_active_from_the_resume_date():
    changes = events((K.ADD, d(1, 1)), (K.HOLD, d(2, 1)), (K.RESUME, d(4, 1)))
    assert derive_status(changes) == (Status.ACTIVE, d(4, 1))


@pytest.mark.parametrize("kind", [K.REGRADE, K.CONFIRM])
def test_regrade_and_confirmation_leave_the_status(kind):
    assert derive_status(events((K.ADD, d(1, 1)), (K.SUSPEND, d(2, 1)), (kind, d(3, 1)))) == (
        Status.SUSPENDED,
        d(2, 1),
    )


def test_a_corrected_death_is_left_out():
    changes = events((K.ADD, d(1, 1)), (K.DEATH, d(3, 15)), (K.CORRECTION, d(4, 2), 1))
    assert derive_status(changes) == (Status.ACTIVE, d(1, 1))


def test_a_corrected_hold_in_the_middle_is_left_out():
    changes = events(
        (K.ADD, d(1, 1)), (K.HOLD, d(2, 1)), (K.RESUME, d(3, 1)), (K.SUSPEND, d(4, 1)), (K.CORRECTION, d(5, 1), 3)
    )
    assert derive_status(changes) == (Status.ACTIVE, d(3, 1))


def test_a_correction_alone_changes_nothing_else():
    changes = events((K.ADD, d(1, 1)), (K.HOLD, d(2, 1)), (K.CONFIRM, d(3, 1)), (K.CORRECTION, d(4, 1), 2))
    assert derive_status(changes) == (Status.HELD, d(2, 1))


def test_transfer_out_and_in_again():
    changes = events((K.ADD, d(1, 1, 2020)), (K.TRANSFER_OUT, d(6, 15, 2025)), (K.TRANSFER_IN, d(7, 1, 2025)))
    assert derive_status(changes) == (Status.ACTIVE, d(7, 1, 2025))


def test_last_day_of_month():
    assert last_day_of_month(d(2, 10, 2024)) == d(2, 29, 2024)
    assert last_day_of_month(d(3, 1)) == d(3, 31)


# change_record


def record(person, kind, on, user, **extra):
    return change_record(beneficiary=person, kind=kind, effective_on=on, recorded_by=user, **extra)


def reload(person):
    person.refresh_from_db()
    return person


def test_death_in_march_ends_entitlements_on_31_march(person, liaison):
    record(person, K.DEATH, d(3, 12), liaison, reason="病故")
    person = reload(person)
    assert (person.status, person.status_since) == (Status.DECEASED, d(3, 12))
    assert person.entitlements.get().end_on == d(3, 31)


def test_correcting_a_wrong_death_restores_active_and_the_entitlement(person, liaison):
    death = record(person, K.DEATH, d(3, 12), liaison)
    record(person, K.CORRECTION, d(3, 20), liaison, corrects=death, reason="误报死亡")
    person = reload(person)
    assert person.status == Status.ACTIVE
    assert person.entitlements.get().end_on is None
    assert StatusChange.objects.filter(beneficiary=person).count() == 2


def test_correction_keeps_an_earlier_fixed_end_date(person, liaison):
    person.entitlements.update(end_on=d(12, 31, 2030))
    death = record(person, K.DEATH, d(3, 12), liaison)
    assert person.entitlements.get().end_on == d(3, 31)
    record(person, K.CORRECTION, d(3, 20), liaison, corrects=death, reason="误报")
    assert person.entitlements.get().end_on == d(12, 31, 2030)


def test_cancel_ends_entitlements_on_the_date(person, office):
    record(person, K.CANCEL, d(5, 8), office, reason="被判处无期徒刑")
    person = reload(person)
    assert person.status == Status.CANCELLED
    assert person.entitlements.get().end_on == d(5, 8)


def test_only_a_correction_follows_a_death(person, liaison):
    death = record(person, K.DEATH, d(3, 12), liaison)
    for kind in (K.RESUME, K.SUSPEND, K.HOLD, K.CONFIRM, K.DEATH):
        with pytest.raises(ValidationError) as error:
            record(person, kind, d(4, 1), liaison, reason="x")
        assert "已死亡" in error.value.message_dict["kind"][0]
    record(person, K.CORRECTION, d(4, 1), liaison, corrects=death, reason="误报")


def test_resume_needs_a_suspension_or_hold(person, liaison):
    with pytest.raises(ValidationError) as error:
        record(person, K.RESUME, d(3, 1), liaison)
    assert "只有处于“中止”或“停发”状态" in error.value.message_dict["kind"][0]
    record(person, K.SUSPEND, d(3, 1), liaison, reason="服刑")
    record(person, K.RESUME, d(5, 1), liaison, reason="刑满")
    assert reload(person).status == Status.ACTIVE


def test_a_transferred_person_cannot_be_suspended(person, liaison):
    record(person, K.TRANSFER_OUT, d(3, 1), liaison, reason="迁往外省")
    with pytest.raises(ValidationError) as error:
        record(person, K.SUSPEND, d(4, 1), liaison, reason="服刑")
    assert "迁出" in error.value.message_dict["kind"][0]


def test_suspend_hold_and_cancel_need_a_reason(person, liaison):
    for kind in (K.SUSPEND, K.HOLD, K.CANCEL):
        with pytest.raises(ValidationError) as error:
            record(person, kind, d(3, 1), liaison)
        assert "原因" in error.value.message_dict["reason"][0]
    assert not person.changes.exists()


def test_a_future_date_is_refused(person, liaison):
    with pytest.raises(ValidationError) as error:
        record(person, K.HOLD, d(6, 21), liaison, reason="未确认")
    assert "晚于今天" in error.value.message_dict["effective_on"][0]


def test_a_date_before_the_previous_event_is_refused(person, liaison):
    record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    with pytest.raises(ValidationError) as error:
        record(person, K.RESUME, d(3, 31), liaison)
    assert "不能早于上一次异动" in error.value.message_dict["effective_on"][0]
    assert reload(person).status == Status.HELD


def test_add_cannot_be_recorded_by_hand(person, liaison):
    with pytest.raises(ValidationError) as error:
        record(person, K.ADD, d(3, 1), liaison)
    assert "新增" in error.value.message_dict["kind"][0]


def test_a_correction_needs_a_reason_and_an_event_of_the_person(person, liaison, township, office):
    hold = record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    with pytest.raises(ValidationError) as error:
        record(person, K.CORRECTION, d(4, 2), liaison, corrects=hold)
    assert "更正原因" in error.value.message_dict["reason"][0]
    with pytest.raises(ValidationError) as error:
        record(person, K.CORRECTION, d(4, 2), liaison, reason="x")
    assert "请选择要更正的异动" in error.value.message_dict["corrects"][0]


def test_an_event_is_corrected_once_and_a_correction_never(person, liaison):
    hold = record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    correction = record(person, K.CORRECTION, d(4, 2), liaison, corrects=hold, reason="误操作")
    with pytest.raises(ValidationError) as error:
        record(person, K.CORRECTION, d(4, 3), liaison, corrects=hold, reason="again")
    assert "已被更正" in error.value.message_dict["corrects"][0]
    with pytest.raises(ValidationError) as error:
        record(person, K.CORRECTION, d(4, 3), liaison, corrects=correction, reason="again")
    assert "不能再被更正" in error.value.message_dict["corrects"][0]


def test_an_earlier_event_is_corrected_only_after_the_later_ones(person, liaison):
    hold = record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    record(person, K.RESUME, d(5, 1), liaison)
    with pytest.raises(ValidationError) as error:
        record(person, K.CORRECTION, d(5, 2), liaison, corrects=hold, reason="误操作")
    assert "请先更正后面的异动" in error.value.message_dict["corrects"][0]


def test_events_are_never_edited_by_a_correction(person, liaison):
    hold = record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    record(person, K.CORRECTION, d(4, 2), liaison, corrects=hold, reason="误操作")
    hold.refresh_from_db()
    assert (hold.kind, hold.effective_on, hold.reason) == (K.HOLD, d(4, 1), "未确认")


# 等级调整


def test_regrade_ends_the_old_grade_and_starts_the_new_one(person, office):
    change = record(person, K.REGRADE, d(3, 1), office, new_grade=4, reason="苏退役〔2026〕5号")
    old, new = person.entitlements.order_by("start_on")
    assert (old.grade, old.end_on) == (6, d(2, 28))
    assert (new.grade, new.nature, new.start_on, new.end_on) == (4, DisabilityNature.WAR, d(3, 1), None)
    assert new.approval_document == "苏退役〔2026〕5号"
    assert change.entitlement == old
    assert reload(person).status == Status.ACTIVE


def test_regrade_within_a_year_of_the_last_grading_is_refused(person, office):
    record(person, K.REGRADE, d(3, 1), office, new_grade=4)
    with pytest.raises(ValidationError) as error:
        record(person, K.REGRADE, d(6, 1), office, new_grade=3)
    assert "第二十九条" in error.value.message_dict["effective_on"][0]
    assert person.entitlements.count() == 2


def test_regrade_to_illness_grade_8_is_refused(person, office):
    with pytest.raises(ValidationError) as error:
        record(person, K.REGRADE, d(3, 1), office, new_grade=8, new_nature=DisabilityNature.ILLNESS)
    assert error.value.message_dict["new_grade"] == ["因病致残七至十级不享受残疾抚恤金。"]


def test_regrade_needs_a_disabled_entitlement(person, office):
    person.entitlements.update(category=Category.WAR_VETERAN, grade=None, nature="")
    with pytest.raises(ValidationError) as error:
        record(person, K.REGRADE, d(3, 1), office, new_grade=4)
    assert "残疾军人待遇" in error.value.message_dict["entitlement"][0]


def test_correcting_a_regrade_restores_the_old_grade(person, office):
    regrade = record(person, K.REGRADE, d(3, 1), office, new_grade=4)
    record(person, K.CORRECTION, d(3, 2), office, corrects=regrade, reason="评定文件有误")
    only = person.entitlements.get()
    assert (only.grade, only.end_on) == (6, None)


# 年度确认


def test_confirmation_sets_the_confirmed_year_once(person, liaison):
    record(person, K.CONFIRM, d(3, 1), liaison, year=2026)
    assert reload(person).confirmed_year == 2026
    with pytest.raises(ValidationError) as error:
        record(person, K.CONFIRM, d(3, 2), liaison, year=2026)
    assert "已确认" in error.value.message_dict["year"][0]


def test_the_database_allows_one_confirmation_per_person_and_year(person, liaison):
    from django.db import IntegrityError, transaction

    StatusChange.objects.create(beneficiary=person, kind=K.CONFIRM, effective_on=d(3, 1), year=2026)
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusChange.objects.create(beneficiary=person, kind=K.CONFIRM, effective_on=d(3, 2), year=2026)


def test_correcting_a_confirmation_clears_the_year(person, liaison):
    confirm = record(person, K.CONFIRM, d(3, 1), liaison, year=2026)
    record(person, K.CONFIRM, d(3, 1), liaison, year=2025)
    record(person, K.CORRECTION, d(3, 2), liaison, corrects=confirm, reason="未见本人")
    assert reload(person).confirmed_year == 2025


def test_a_late_death_can_follow_a_confirmation_dated_later(person, liaison):
    record(person, K.CONFIRM, d(3, 1), liaison, year=2026)
    record(person, K.DEATH, d(2, 20), liaison)
    person = reload(person)
    assert person.status == Status.DECEASED
    assert person.entitlements.get().end_on == d(2, 28)


# Documents


def test_a_document_is_stored_under_a_random_name(person, liaison):
    change = record(person, K.DEATH, d(3, 12), liaison, document=SimpleUploadedFile("死亡证明.pdf", PDF))
    assert change.document_name == "死亡证明.pdf"
    assert "死亡证明" not in change.document.name and change.document.name.endswith(".pdf")


def test_a_bad_document_saves_nothing(person, liaison):
    with pytest.raises(ValidationError) as error:
        record(person, K.DEATH, d(3, 12), liaison, document=SimpleUploadedFile("死亡证明.pdf", b"<html>"))
    assert "document" in error.value.message_dict
    assert reload(person).status == Status.ACTIVE
    assert not person.changes.exists()


def test_entitlements_added_after_a_correction_stay(person, liaison):
    hold = record(person, K.HOLD, d(4, 1), liaison, reason="未确认")
    entitlement_add(beneficiary=person, category=Category.WAR_VETERAN, start_on=d(1, 1, 2020), recorded_by=liaison)
    record(person, K.CORRECTION, d(4, 2), liaison, corrects=hold, reason="误操作")
    assert Entitlement.objects.filter(beneficiary=person).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deaths_record_one(person, office, liaison):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite 不支持行锁，此并发测试在 PostgreSQL 上运行。")
    barrier = threading.Barrier(2)
    errors = []

    def die(user):
        try:
            barrier.wait()
            record(person, K.DEATH, d(3, 12), user)
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=die, args=(user,)) for user in (office, liaison)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert person.changes.filter(kind=K.DEATH).count() == 1
    assert len(errors) == 1 and "已死亡" in errors[0].message_dict["kind"][0]


def test_a_corrected_confirmation_is_not_recorded_again(person, liaison):
    confirm = record(person, K.CONFIRM, d(3, 1), liaison, year=2026)
    record(person, K.CORRECTION, d(3, 2), liaison, corrects=confirm, reason="未见本人")
    with pytest.raises(ValidationError) as error:
        record(person, K.CONFIRM, d(3, 3), liaison, year=2026)
    assert "已被更正" in error.value.message_dict["year"][0]
