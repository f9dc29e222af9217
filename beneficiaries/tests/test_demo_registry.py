import datetime
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from beneficiaries.constants import Category, ChangeKind, DisabilityNature, ServiceArea, Status, TransferStatus
from beneficiaries.models import Award, Beneficiary, Entitlement, StatusChange, Transfer
from beneficiaries.services import add_years, name_initials
from shuangyong.lib.idcard import validate_id_number


@pytest.fixture(scope="module")
def demo(module_db):
    call_command("seed_demo")


def test_demo_registry_holds_every_category_in_realistic_proportions(demo):
    local = Beneficiary.objects.filter(township__parent__name="示例县")
    assert 280 <= local.count() <= 320
    assert 8 <= Beneficiary.objects.filter(township__parent__name="邻县").count() <= 12
    assert set(local.values_list("township__name", flat=True)) == {
        "城关街道", "新华街道", "溧东镇", "南渡镇", "上兴镇", "竹箦镇", "别桥镇", "雅灰乡", "社渚乡", "天目湖乡",
    }  # fmt: skip
    people = Counter(Entitlement.objects.filter(beneficiary__in=local).values_list("category", flat=True))
    assert set(people) == set(Category.values)
    assert people[Category.ILL_RETURNED] > people[Category.DISABLED] > people[Category.MARTYR_FAMILY]
    assert people[Category.RURAL_VETERAN_60] > people[Category.CONSCRIPT_FAMILY] >= 35
    disabled = Entitlement.objects.filter(category=Category.DISABLED)
    assert set(disabled.values_list("grade", flat=True)) == set(range(1, 11))
    assert set(disabled.values_list("nature", flat=True)) == set(DisabilityNature.values)
    assert not disabled.filter(nature=DisabilityNature.ILLNESS, grade__gt=6).exists()
    families = Entitlement.objects.filter(category=Category.CONSCRIPT_FAMILY)
    assert not families.filter(enlistment_date__isnull=True).exists()
    assert not families.filter(serving_member_name="").exists()
    assert families.filter(service_area=ServiceArea.TIBET).exists()
    assert Award.objects.filter(entitlement__category=Category.CONSCRIPT_FAMILY).count() >= 5


def test_every_demo_id_number_is_valid_and_matches_the_person(demo):
    people = list(Beneficiary.objects.prefetch_related("entitlements"))
    for person in people:
        parsed = validate_id_number(person.id_number)
        assert parsed.area_code in ("320481", "320413"), person.name
        assert (parsed.sex, parsed.birth_date) == (person.sex, person.birth_date)
        assert person.name_initials == name_initials(person.name)
        for held in person.entitlements.all():
            assert held.start_on >= person.birth_date
            if held.category == Category.RURAL_VETERAN_60:
                assert held.start_on >= add_years(person.birth_date, 60)
                assert held.service_years
            if held.category == Category.DEMOBILIZED:
                assert person.birth_date < datetime.date(1937, 1, 1)
    assert len({person.id_number for person in people}) == len(people)


def test_demo_registry_has_statuses_events_and_confirmations(demo):
    statuses = Counter(Beneficiary.objects.values_list("status", flat=True))
    assert statuses[Status.ACTIVE] > 280
    assert statuses[Status.SUSPENDED] and statuses[Status.HELD] and statuses[Status.DECEASED]
    deaths = StatusChange.objects.filter(kind=ChangeKind.DEATH)
    assert deaths.count() == statuses[Status.DECEASED]
    assert {change.effective_on.year for change in deaths} == {2025}
    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.PENDING and transfer.to_county.name == "邻县"
    assert transfer.beneficiary.status == Status.TRANSFERRED
    total = Beneficiary.objects.count()
    confirmed_2025 = StatusChange.objects.filter(kind=ChangeKind.CONFIRM, year=2025).count()
    confirmed_2026 = StatusChange.objects.filter(kind=ChangeKind.CONFIRM, year=2026).count()
    assert confirmed_2025 > total * 0.85
    assert total * 0.35 < confirmed_2026 < total * 0.6
    assert StatusChange.objects.filter(kind=ChangeKind.ADD).count() == total


def test_a_second_seed_demo_adds_nobody(demo):
    counts = [model.objects.count() for model in (Beneficiary, Entitlement, StatusChange, Award, Transfer)]
    call_command("seed_demo")
    assert [model.objects.count() for model in (Beneficiary, Entitlement, StatusChange, Award, Transfer)] == counts


def test_the_demo_county_office_may_reveal_and_nobody_else(demo):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["zhuren"].has_perm("beneficiaries.reveal_personal_data")
    assert users["ganshi"].has_perm("beneficiaries.reveal_personal_data")
    for name in ("lidong", "guihua", "xianzhang", "linxian"):
        assert not users[name].has_perm("beneficiaries.reveal_personal_data"), name
