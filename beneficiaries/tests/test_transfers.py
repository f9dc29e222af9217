import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from beneficiaries.constants import ChangeKind, Status, TransferStatus
from beneficiaries.models import Beneficiary, StatusChange, Transfer
from beneficiaries.selectors import transfer_destinations, transfer_pay_months, transfer_payer, transfers_incoming
from beneficiaries.services import change_record, transfer_accept, transfer_withdraw
from units.constants import UnitKind
from units.models import Unit


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2025, 7, 1, 10, 0), tick=False):
        yield


@pytest.fixture
def far_village(other_township_far):
    return Unit.objects.create(name="北村", kind=UnitKind.VILLAGE, parent=other_township_far)


def transfer_out(person, to_county, user, on=datetime.date(2025, 6, 15)):
    change = change_record(
        beneficiary=person,
        kind=ChangeKind.TRANSFER_OUT,
        effective_on=on,
        recorded_by=user,
        reason="随子女迁居",
        to_county=to_county,
    )
    return Transfer.objects.get(out_change=change)


def test_transfer_out_creates_a_pending_transfer(person, office, other_county):
    transfer = transfer_out(person, other_county, office)
    person.refresh_from_db()
    assert person.status == Status.TRANSFERRED
    assert (transfer.status, transfer.from_township, transfer.to_county) == (
        TransferStatus.PENDING,
        person.township,
        other_county,
    )


def test_the_receiving_office_sees_the_pending_transfer(person, office, outsider, other_county):
    transfer = transfer_out(person, other_county, office)
    assert list(transfers_incoming(user=outsider)) == [transfer]
    assert not transfers_incoming(user=office).exists()


def test_accepting_moves_the_person_and_keeps_one_history(
    person, office, outsider, other_county, other_township_far, far_village
):
    transfer = transfer_out(person, other_county, office)
    transfer_accept(
        transfer=transfer,
        township=other_township_far,
        village=far_village,
        accepted_by=outsider,
        effective_on=datetime.date(2025, 6, 30),
    )
    person.refresh_from_db()
    transfer.refresh_from_db()
    assert (person.township, person.village, person.status) == (other_township_far, far_village, Status.ACTIVE)
    assert transfer.status == TransferStatus.ACCEPTED and transfer.in_change.kind == ChangeKind.TRANSFER_IN
    assert Beneficiary.objects.filter(id_number=person.id_number).count() == 1
    kinds = list(StatusChange.objects.filter(beneficiary=person).values_list("kind", flat=True))
    assert kinds == [ChangeKind.TRANSFER_OUT, ChangeKind.TRANSFER_IN]
    assert Beneficiary.objects.visible_to(outsider).filter(pk=person.pk).exists()
    assert not Beneficiary.objects.visible_to(office).filter(pk=person.pk).exists()
    assert Transfer.objects.visible_to(office).filter(pk=transfer.pk).exists()


def test_the_receiving_township_must_be_in_the_receiving_county(person, office, outsider, other_county, township):
    transfer = transfer_out(person, other_county, office)
    with pytest.raises(ValidationError) as error:
        transfer_accept(transfer=transfer, township=township, accepted_by=outsider)
    assert "邻县" in error.value.message_dict["township"][0]
    person.refresh_from_db()
    assert person.status == Status.TRANSFERRED


def test_a_transfer_is_accepted_once(person, office, outsider, other_county, other_township_far):
    transfer = transfer_out(person, other_county, office)
    transfer_accept(transfer=transfer, township=other_township_far, accepted_by=outsider)
    with pytest.raises(ValidationError):
        transfer_accept(transfer=transfer, township=other_township_far, accepted_by=outsider)
    assert StatusChange.objects.filter(kind=ChangeKind.TRANSFER_IN).count() == 1


def test_the_sender_withdraws_a_pending_transfer(person, office, outsider, other_county):
    transfer = transfer_out(person, other_county, office)
    transfer_withdraw(transfer=transfer, withdrawn_by=office)
    person.refresh_from_db()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN
    assert person.status == Status.ACTIVE
    assert not transfers_incoming(user=outsider).exists()
    kinds = list(person.changes.values_list("kind", flat=True))
    assert kinds == [ChangeKind.TRANSFER_OUT, ChangeKind.CORRECTION]


def test_a_withdrawn_transfer_cannot_be_accepted(person, office, outsider, other_county, other_township_far):
    transfer = transfer_out(person, other_county, office)
    transfer_withdraw(transfer=transfer, withdrawn_by=office)
    with pytest.raises(ValidationError) as error:
        transfer_accept(transfer=transfer, township=other_township_far, accepted_by=outsider)
    assert "已撤回" in error.value.messages[0]


def test_an_accepted_transfer_cannot_be_withdrawn_or_corrected(
    person, office, outsider, other_county, other_township_far
):
    transfer = transfer_out(person, other_county, office)
    transfer_accept(transfer=transfer, township=other_township_far, accepted_by=outsider)
    with pytest.raises(ValidationError):
        transfer_withdraw(transfer=transfer, withdrawn_by=office)
    with pytest.raises(ValidationError) as error:
        change_record(
            beneficiary=person,
            kind=ChangeKind.CORRECTION,
            effective_on=datetime.date(2025, 7, 1),
            recorded_by=outsider,
            corrects=transfer.out_change,
            reason="x",
        )
    assert "不能更正" in error.value.message_dict["corrects"][0]


def test_no_other_event_while_a_transfer_is_pending(person, office, other_county):
    transfer_out(person, other_county, office)
    with pytest.raises(ValidationError) as error:
        change_record(
            beneficiary=person, kind=ChangeKind.DEATH, effective_on=datetime.date(2025, 6, 20), recorded_by=office
        )
    assert "迁出" in error.value.message_dict["kind"][0] or "待接收" in error.value.message_dict["kind"][0]


def test_the_destination_must_be_another_county(person, office, county, township):
    for destination, message in ((county, "不能是本县"), (township, "县（区）")):
        with pytest.raises(ValidationError) as error:
            transfer_out(person, destination, office)
        assert message in error.value.message_dict["to_county"][0]
    assert not Transfer.objects.exists()


def test_destinations_list_every_other_county(person, county, other_county):
    assert list(transfer_destinations(person=person)) == [other_county]


def test_each_month_of_2025_and_2026_is_paid_by_exactly_one_county(person, office, other_county):
    transfer = transfer_out(person, other_county, office, on=datetime.date(2025, 6, 15))
    months = transfer_pay_months(transfer)
    assert months.sender_last_month == datetime.date(2025, 12, 1)
    assert months.receiver_first_month == datetime.date(2026, 1, 1)
    for year in (2025, 2026):
        for month in range(1, 13):
            first = datetime.date(year, month, 1)
            by_sender = first <= months.sender_last_month
            by_receiver = first >= months.receiver_first_month
            assert by_sender != by_receiver, first
            assert transfer_payer(transfer, first.replace(day=28)) == ("sender" if by_sender else "receiver")
