"""Personas and a small unit tree shared by every app's tests."""

import datetime
import io
import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from units.constants import GroupRole, Role, UnitKind
from units.models import GroupMember, LeadingGroup, Membership, Pairing, Unit, UserProfile

PASSWORD = "Shuangyong-test-2025"


def make_user(username, unit, role, *, full_name="", is_director=False):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    UserProfile.objects.create(user=user, full_name=full_name or username)
    Membership.objects.create(user=user, unit=unit, role=role, is_director=is_director)
    return user


@pytest.fixture
def city(db):
    return Unit.objects.create(name="示例市", kind=UnitKind.CITY, region_code="320400")


@pytest.fixture
def county(city):
    return Unit.objects.create(name="示例县", kind=UnitKind.COUNTY, parent=city, region_code="320481")


@pytest.fixture
def township(county):
    return Unit.objects.create(name="溧东镇", kind=UnitKind.TOWNSHIP, parent=county, region_code="320481100000")


@pytest.fixture
def village(township):
    return Unit.objects.create(name="东村", kind=UnitKind.VILLAGE, parent=township, region_code="320481100201")


@pytest.fixture
def other_township(county):
    return Unit.objects.create(name="雅灰乡", kind=UnitKind.TOWNSHIP, parent=county, region_code="320481101000")


@pytest.fixture
def bureau(county):
    return Unit.objects.create(name="示例县规划局", kind=UnitKind.DEPARTMENT, parent=county)


@pytest.fixture
def military_unit(county):
    return Unit.objects.create(name="示例县人武部", kind=UnitKind.MILITARY, parent=county)


@pytest.fixture
def fire_brigade(county):
    return Unit.objects.create(name="示例县消防救援大队", kind=UnitKind.PARTNER_FORCE, parent=county)


@pytest.fixture
def other_county(city):
    return Unit.objects.create(name="邻县", kind=UnitKind.COUNTY, parent=city, region_code="320413")


@pytest.fixture
def other_township_far(other_county):
    return Unit.objects.create(
        name="邻县城关镇", kind=UnitKind.TOWNSHIP, parent=other_county, region_code="320413100000"
    )


@pytest.fixture
def director(county):
    return make_user("director", county, Role.OFFICE, full_name="王主任", is_director=True)


@pytest.fixture
def office(county):
    return make_user("office", county, Role.OFFICE, full_name="李干事")


@pytest.fixture
def liaison(township):
    return make_user("liaison", township, Role.LIAISON, full_name="张联络员")


@pytest.fixture
def bureau_liaison(bureau):
    return make_user("bureau_liaison", bureau, Role.LIAISON, full_name="赵联络员")


@pytest.fixture
def leader(county):
    return make_user("leader", county, Role.LEADER, full_name="刘县长")


@pytest.fixture
def outsider(other_county):
    return make_user("outsider", other_county, Role.OFFICE, full_name="外县干事")


@pytest.fixture
def group(township):
    group = LeadingGroup.objects.create(unit=township)
    GroupMember.objects.create(
        group=group, name="陈书记", job_title="党委书记", role=GroupRole.LEADER, start_on=datetime.date(2024, 1, 1)
    )
    GroupMember.objects.create(
        group=group, name="周镇长", job_title="镇长", role=GroupRole.FIRST_DEPUTY, start_on=datetime.date(2024, 1, 1)
    )
    return group


@pytest.fixture
def pairing(township, military_unit):
    return Pairing.objects.create(
        civil_unit=township, military_unit=military_unit, signed_on=datetime.date(2024, 3, 5), goals="共建文明村镇"
    )


def valid_id_number(body):
    """Return an 18-character ID number for a 17-digit body, with its check character."""
    from shuangyong.lib.idcard import check_character

    return body + check_character(body)


def xlsx_upload(sheet, header, rows, *, template=None, name):
    """An uploaded .xlsx: the rows appended to the sheet of a downloaded template, or under the header."""
    if template is None:
        book = openpyxl.Workbook()
        book.active.title = sheet
        book.active.append(header)
    else:
        book = openpyxl.load_workbook(io.BytesIO(template))
    for values in rows:
        book[sheet].append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def import_error_lines(response):
    """The rows of an import page's error table, each as the text of its cells."""
    html = response.content.decode()
    found = re.search(r'<table[^>]*id="import-errors".*?</table>', html, re.S)
    if not found:
        return []
    lines = []
    for tr in re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        lines.append(" ".join(c for c in cells if c))
    return lines


@pytest.fixture
def person(township, village):
    """A 残疾军人 of 溧东镇 東村, born 1962-05-17, male."""
    from beneficiaries.constants import Category, DisabilityNature
    from beneficiaries.models import Beneficiary, Entitlement

    person = Beneficiary.objects.create(
        name="王建国",
        name_initials="wjg",
        id_number=valid_id_number("32048119620517001"),
        sex="男",
        birth_date=datetime.date(1962, 5, 17),
        township=township,
        village=village,
        phone="13800000001",
        bank_name="示例县农村商业银行",
        bank_account="6228480402564890018",
    )
    Entitlement.objects.create(
        beneficiary=person,
        category=Category.DISABLED,
        grade=6,
        nature=DisabilityNature.WAR,
        start_on=datetime.date(2010, 1, 1),
        approval_document="苏民优〔2009〕12号",
    )
    return person


@pytest.fixture
def personas(director, office, liaison, bureau_liaison, leader, outsider):
    return {
        "director": director,
        "office": office,
        "liaison": liaison,
        "bureau_liaison": bureau_liaison,
        "leader": leader,
        "outsider": outsider,
    }


def settings_for_tests(media_root):
    """What every test runs with: media in a temporary folder, fast password hashes, tasks run at once."""
    from django.conf import settings

    return {
        "MEDIA_ROOT": media_root,
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}},
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # A test on module_db's data uses the database: marked before collection ends, pytest-django sets it up.
    for item in items:
        if "module_db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker, tmp_path_factory):
    """One transaction around a test module, for data that is slow to build (the demo): returns the media folder.

    A module-scoped fixture that asks for this builds its data once; each test that uses it runs in a savepoint
    inside (it is marked django_db), and everything is rolled back after the module's last test. The module's
    later tests see that data too, whether they ask for it or not.
    """
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(**settings_for_tests(media)):
        atomic = transaction.atomic()
        atomic._from_testcase = True  # a durable block inside nests in it as in a TestCase's
        atomic.__enter__()
        try:
            yield media
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media_in_tmp(request, settings, tmp_path):
    media = request.getfixturevalue("module_db") if "module_db" in request.fixturenames else tmp_path / "media"
    for name, value in settings_for_tests(media).items():
        setattr(settings, name, value)
