import re

import pytest
from django.urls import reverse

from units.constants import UnitKind
from units.models import Unit


def test_it_lists_units_in_the_office_scope_only(client, office, township, other_county):
    client.force_login(office)
    page = client.get(reverse("units:list")).content.decode()
    assert "溧东镇" in page
    assert "邻县" not in page


def test_outsider_gets_404_on_a_unit(client, outsider, township):
    client.force_login(outsider)
    assert client.get(township.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("320481", "12 位"),
        ("320999100000", "不在行政区划代码表"),
        ("320413100000", "代码前缀 320481"),
        ("320481000000", "第 7–9 位"),
    ],
)
def test_it_refuses_a_bad_township_code(client, office, county, code, message):
    client.force_login(office)
    response = client.post(
        reverse("units:create"), {"name": "新镇", "kind": UnitKind.TOWNSHIP, "parent": county.pk, "region_code": code}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Unit.objects.filter(name="新镇").exists()


def test_it_adds_a_township_and_a_village(client, office, county):
    client.force_login(office)
    response = client.post(
        reverse("units:create"),
        {"name": "新镇", "kind": UnitKind.TOWNSHIP, "parent": county.pk, "region_code": "320481105000"},
    )
    town = Unit.objects.get(name="新镇")
    assert response.url == town.get_absolute_url()
    client.post(
        reverse("units:create"),
        {"name": "新村", "kind": UnitKind.VILLAGE, "parent": town.pk, "region_code": "320481105201"},
    )
    village = Unit.objects.get(name="新村")
    assert village.path.startswith(town.path) and town.path.startswith(county.path)


def test_a_tampered_parent_outside_scope_is_refused(client, office, other_county):
    client.force_login(office)
    response = client.post(
        reverse("units:create"), {"name": "外县局", "kind": UnitKind.DEPARTMENT, "parent": other_county.pk}
    )
    assert "不在您的管辖范围内" in response.content.decode()
    assert not Unit.objects.filter(name="外县局").exists()


def test_moving_a_township_moves_its_villages(office, county, township, village, other_county):
    from units.services import unit_update

    unit_update(unit=township, name=township.name, kind=township.kind, parent=other_county, region_code="320413100000")
    village.refresh_from_db()
    township.refresh_from_db()
    assert village.path.startswith(township.path)
    assert township.path.startswith(other_county.path)
    assert village.depth == township.depth + 1


def test_a_unit_with_active_children_cannot_be_deactivated(client, office, township, village):
    client.force_login(office)
    client.post(reverse("units:toggle_active", args=[township.pk]))
    township.refresh_from_db()
    assert township.is_active


def test_leader_cannot_edit_a_unit(client, leader, township):
    client.force_login(leader)
    assert client.get(reverse("units:edit", args=[township.pk])).status_code == 404
    assert client.post(reverse("units:toggle_active", args=[township.pk])).status_code == 404


def test_home_lists_what_needs_attention_in_scope_only(client, office, township, bureau, group, pairing, other_county):
    from units.models import GroupMember

    GroupMember.objects.filter(group=group, role="leader").update(end_on="2024-06-30")
    client.force_login(office)
    page = client.get(reverse("home")).content.decode()
    without_group = page.split('id="without-group"')[1].split("</ul>")[0]
    without_leader = page.split('id="without-leader"')[1].split("</ul>")[0]
    without_agreement = page.split('id="without-agreement"')[1].split("</ul>")[0]
    assert "示例县规划局" in without_group and "溧东镇" not in without_group
    assert "邻县" not in without_group
    assert "溧东镇" in without_leader
    assert "溧东镇 ↔ 示例县人武部" in without_agreement


def test_a_server_error_shows_the_chinese_error_page(rf):
    from units.views_home import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统出现错误" in response.content.decode()


def test_the_menu_leads_each_role_to_its_payments_page(client, office, liaison, leader):
    def menu(user):
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        return re.findall(r'<a class="nav-link[^"]*"[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', html)

    assert ("/payments/batches/", "抚恤发放") in menu(office)
    assert ("/payments/batches/", "抚恤发放") in menu(leader)
    liaison_menu = menu(liaison)
    assert ("/payments/ledger/", "发放台账") in liaison_menu
    assert all(label != "抚恤发放" for _, label in liaison_menu)
