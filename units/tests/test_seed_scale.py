from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from units.constants import REGION_KINDS, Role, UnitKind
from units.management.commands.seed_scale import PREFIX
from units.models import LeadingGroup, Membership, Pairing, Unit
from units.regions import check_region_code


def seed(*args):
    out = StringIO()
    call_command("seed_scale", "--profile", "county", "--password", "Scale-test-2025", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def county_profile(module_db):
    return seed()


def test_it_builds_a_county_of_about_300_units(county_profile):
    counts = Counter(Unit.objects.values_list("kind", flat=True))
    assert 270 <= sum(counts.values()) <= 330
    assert counts[UnitKind.COUNTY] == 1
    assert counts[UnitKind.TOWNSHIP] == 15
    assert 15 * 11 <= counts[UnitKind.VILLAGE] <= 15 * 15
    assert counts[UnitKind.DEPARTMENT] == 35
    assert counts[UnitKind.SCHOOL] == 20
    assert counts[UnitKind.MILITARY] + counts[UnitKind.PARTNER_FORCE] == 10
    assert Unit.objects.get(parent__isnull=True).name == f"{PREFIX}德清县"
    assert "规模测试德清县" in county_profile and "用时" in county_profile


def test_every_path_follows_its_parent(county_profile):
    units = Unit.objects.in_bulk()
    for unit in units.values():
        parent = units.get(unit.parent_id)
        assert unit.path == f"{parent.path if parent else '/'}{unit.pk}/"
        assert unit.depth == unit.path.count("/") - 2
    assert Unit.objects.filter(kind=UnitKind.VILLAGE).values("depth").distinct().get()["depth"] == 2


def test_every_region_code_is_valid_and_unique(county_profile):
    units = Unit.objects.in_bulk()
    codes = [unit.region_code for unit in units.values() if unit.region_code]
    assert len(codes) == len(set(codes)) == Unit.objects.filter(kind__in=REGION_KINDS).count()
    for unit in units.values():
        assert check_region_code(kind=unit.kind, code=unit.region_code, parent=units.get(unit.parent_id)) is None


def test_it_gives_groups_members_pairings_and_logins(county_profile, client):
    today = timezone.localdate()
    groups = LeadingGroup.objects.select_related("unit")
    assert groups.count() == 16
    for group in groups:
        assert 5 <= group.members.on(today).count() <= 10
    assert any(group.members.filter(end_on__isnull=False).exists() for group in groups)
    assert Pairing.objects.filter(civil_unit__kind=UnitKind.TOWNSHIP).count() >= 15
    assert Membership.objects.filter(role=Role.LIAISON, unit__kind=UnitKind.TOWNSHIP).count() == 15
    assert Membership.objects.filter(role=Role.LIAISON, unit__kind=UnitKind.DEPARTMENT).count() == 35
    office = Membership.objects.get(role=Role.OFFICE, unit__kind=UnitKind.COUNTY).user
    response = client.post(reverse("login"), {"username": office.username, "password": "Scale-test-2025"}, follow=True)
    assert response.wsgi_request.user == office
    assert "规模测试德清县" in client.get(reverse("units:list")).content.decode()


def test_a_second_run_refuses_and_reset_rebuilds(county_profile):
    with pytest.raises(CommandError, match="已存在"):
        seed()
    assert Unit.objects.filter(parent__isnull=True).count() == 1
    seed("--reset")
    assert Unit.objects.filter(parent__isnull=True).count() == 1
    assert LeadingGroup.objects.count() == 16
    seed("--delete")
    assert not Unit.objects.exists()
    assert not Membership.objects.exists()
    assert not LeadingGroup.history.exists()


def test_it_registers_5000_people_with_valid_unique_ids_inside_the_county(county_profile):
    from beneficiaries.constants import ChangeKind
    from beneficiaries.models import Beneficiary, Entitlement, StatusChange
    from shuangyong.lib.idcard import validate_id_number

    county = Unit.objects.get(kind=UnitKind.COUNTY)
    people = list(Beneficiary.objects.select_related("township", "village"))
    assert len(people) == 5000
    assert len({person.id_number for person in people}) == 5000
    for person in people:
        parsed = validate_id_number(person.id_number)
        assert (parsed.sex, parsed.birth_date, parsed.area_code) == (person.sex, person.birth_date, "330521")
        assert person.township.kind == UnitKind.TOWNSHIP and person.township.parent_id == county.pk
        assert person.village is None or person.village.parent_id == person.township_id
    assert len({person.township_id for person in people}) == 15
    assert not Beneficiary.objects.filter(entitlements__isnull=True).exists()
    assert Entitlement.objects.values("category").distinct().count() == 12
    assert StatusChange.objects.filter(kind=ChangeKind.ADD).values("beneficiary").distinct().count() == 5000
    assert "5000  优抚对象" in county_profile
    seed("--delete")
    assert not Beneficiary.objects.exists() and not Beneficiary.history.exists()
