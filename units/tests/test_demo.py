import pytest
from django.core.management import call_command
from django.urls import reverse

from units.constants import UnitKind
from units.models import Agreement, GroupMember, Pairing, Unit
from units.regions import check_region_code


@pytest.fixture(scope="module")
def demo(module_db):
    call_command("seed_demo")


def test_seed_demo_builds_the_county_and_is_idempotent(demo):
    counts = (Unit.objects.count(), GroupMember.objects.count(), Pairing.objects.count())
    call_command("seed_demo")
    assert (Unit.objects.count(), GroupMember.objects.count(), Pairing.objects.count()) == counts
    county = Unit.objects.get(name="示例县")
    assert county.children.filter(kind=UnitKind.TOWNSHIP).count() == 10
    military = [UnitKind.MILITARY, UnitKind.PARTNER_FORCE]
    assert county.children.exclude(kind__in=[UnitKind.TOWNSHIP, *military]).count() == 40
    assert county.children.filter(kind__in=military).count() == 8
    assert Agreement.objects.count() == 6
    assert Agreement.objects.first().file.read().startswith(b"%PDF")


def test_demo_region_codes_are_valid(demo):
    for unit in Unit.objects.exclude(region_code="").select_related("parent"):
        assert check_region_code(kind=unit.kind, code=unit.region_code, parent=unit.parent) is None, unit.name


def test_demo_other_county_office_sees_none_of_the_demo_county(client, demo):
    response = client.post(reverse("login"), {"username": "linxian", "password": "Shuangyong@2025"})
    assert response.status_code == 302
    page = client.get(reverse("units:list")).content.decode()
    assert "邻县城关镇" in page
    assert "溧东镇" not in page
    lidong = Unit.objects.get(name="溧东镇")
    assert client.get(lidong.get_absolute_url()).status_code == 404
