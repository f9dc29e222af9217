import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from beneficiaries.constants import ChangeKind, Status
from beneficiaries.models import ConfirmationRound, StatusChange
from beneficiaries.selectors import confirmation_held, confirmation_overview
from beneficiaries.services import (
    beneficiary_create,
    change_record,
    confirmation_apply,
    confirmation_bulk,
    confirmation_round_set,
)
from conftest import valid_id_number


@pytest.fixture
def clock():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(clock, person, township, village, office):
    second = beneficiary_create(
        name="李秀英",
        id_number=valid_id_number("32048119580301002"),
        township=township,
        village=village,
        effective_on=datetime.date(2025, 1, 2),
        created_by=office,
    )
    third = beneficiary_create(
        name="赵大勇",
        id_number=valid_id_number("32048119500101003"),
        township=township,
        effective_on=datetime.date(2025, 1, 2),
        created_by=office,
    )
    return [person, second, third]


def test_the_office_sets_and_moves_the_deadline(county):
    confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 3, 31))
    confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 4, 30))
    assert ConfirmationRound.objects.get().deadline == datetime.date(2026, 4, 30)


def test_a_deadline_far_from_the_year_is_refused(county):
    with pytest.raises(ValidationError) as error:
        confirmation_round_set(county=county, year=2026, deadline=datetime.date(2030, 1, 1))
    assert "截止日期" in error.value.message_dict["deadline"][0]


def test_bulk_confirmation_counts(people, office, county):
    confirmed, skipped = confirmation_bulk(people=people[:2], year=2026, recorded_by=office)
    assert (len(confirmed), skipped) == (2, [])
    overview = confirmation_overview(county=county, year=2026)
    assert (overview["total"], overview["confirmed"]) == (3, 2)
    assert list(overview["unconfirmed"]) == [people[2]]
    people[0].refresh_from_db()
    assert people[0].confirmed_year == 2026


def test_bulk_confirmation_skips_those_already_confirmed(people, office):
    confirmation_bulk(people=people[:1], year=2026, recorded_by=office)
    confirmed, skipped = confirmation_bulk(people=people, year=2026, recorded_by=office)
    assert [p.pk for p in confirmed] == [people[1].pk, people[2].pk]
    assert skipped[0][0] == people[0] and "已确认" in skipped[0][1]


def test_apply_after_the_deadline_holds_the_unconfirmed_and_reruns_change_nothing(people, office, county, clock):
    round_ = confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 3, 31))
    confirmation_bulk(people=people[:1], year=2026, recorded_by=office)
    with pytest.raises(ValidationError) as error:
        confirmation_apply(round=round_, applied_by=office)
    assert "未过" in error.value.messages[0]

    clock.move_to(datetime.datetime(2026, 4, 1, 9, 0))
    held = confirmation_apply(round=round_, applied_by=office)
    assert {p.pk for p in held} == {people[1].pk, people[2].pk}
    for person in people[1:]:
        person.refresh_from_db()
        assert person.status == Status.HELD
        assert person.changes.get(kind=ChangeKind.HOLD).reason == "未按期完成2026年度确认"
    people[0].refresh_from_db()
    assert people[0].status == Status.ACTIVE
    assert set(confirmation_held(county=county, year=2026)) == {people[1], people[2]}

    count = StatusChange.objects.count()
    assert confirmation_apply(round=round_, applied_by=office) == []
    assert StatusChange.objects.count() == count


def test_apply_leaves_other_counties_and_other_statuses_alone(people, office, county, clock, outsider):
    change_record(
        beneficiary=people[2],
        kind=ChangeKind.SUSPEND,
        effective_on=datetime.date(2026, 2, 1),
        reason="服刑",
        recorded_by=office,
    )
    round_ = confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 3, 31))
    clock.move_to(datetime.datetime(2026, 4, 1, 9, 0))
    held = confirmation_apply(round=round_, applied_by=office)
    assert {p.pk for p in held} == {people[0].pk, people[1].pk}
    people[2].refresh_from_db()
    assert people[2].status == Status.SUSPENDED


def test_a_round_cannot_be_moved_after_it_was_applied(people, office, county, clock):
    round_ = confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 3, 31))
    clock.move_to(datetime.datetime(2026, 4, 1, 9, 0))
    confirmation_apply(round=round_, applied_by=office)
    with pytest.raises(ValidationError):
        confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 5, 31))


def test_a_late_confirmation_does_not_lift_the_hold_until_resumed(people, office, county, clock):
    round_ = confirmation_round_set(county=county, year=2026, deadline=datetime.date(2026, 3, 31))
    clock.move_to(datetime.datetime(2026, 4, 1, 9, 0))
    confirmation_apply(round=round_, applied_by=office)
    clock.move_to(datetime.datetime(2026, 4, 10, 9, 0))
    change_record(
        beneficiary=people[1],
        kind=ChangeKind.CONFIRM,
        effective_on=datetime.date(2026, 4, 10),
        year=2026,
        recorded_by=office,
    )
    people[1].refresh_from_db()
    assert (people[1].status, people[1].confirmed_year) == (Status.HELD, 2026)
    change_record(
        beneficiary=people[1], kind=ChangeKind.RESUME, effective_on=datetime.date(2026, 4, 10), recorded_by=office
    )
    people[1].refresh_from_db()
    assert people[1].status == Status.ACTIVE
