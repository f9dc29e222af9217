import datetime
import io

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from beneficiaries import exporters
from beneficiaries.constants import AccessKind, Category
from beneficiaries.exporters import EXPORT_KIND, HEADER
from beneficiaries.models import AccessLog, Beneficiary, Entitlement
from conftest import valid_id_number
from units.constants import JobStatus
from units.models import Job

FULL_ID = valid_id_number("32048119620517001")
FULL_ACCOUNT = "6228480402564890018"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, 0), tick=False):
        yield


def grant_reveal(user):
    user.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))


def cells(content, sheet="优抚对象"):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook[sheet].values]


def all_text(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return "\n".join(str(value) for ws in workbook for row in ws.values for value in row if value is not None)


def export(client, **params):
    return client.get(reverse("beneficiaries:export"), params)


def make_person(township, n, **fields):
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=n)
    person = Beneficiary.objects.create(
        name=fields.pop("name", f"对象{n}"),
        id_number=valid_id_number(f"320481{born:%Y%m%d}{n % 1000:03d}"),
        sex="男",
        birth_date=born,
        township=township,
        **fields,
    )
    Entitlement.objects.create(beneficiary=person, category=Category.DEMOBILIZED, start_on=datetime.date(2012, 1, 1))
    return person


def test_the_export_is_masked_by_default(client, office, person):
    client.force_login(office)
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    rows = cells(response.content)
    assert rows[0] == HEADER
    row = dict(zip(HEADER, rows[1], strict=True))
    assert row["姓名"] == "王建国"
    assert row["身份证号"] == FULL_ID[:4] + "*" * 10 + FULL_ID[-4:]
    assert row["银行账号"] == "**** **** **** 0018"
    assert (row["优抚类别"], row["残疾等级"], row["残疾性质"]) == ("残疾军人", "六级", "因战")
    assert (row["性别"], row["状态"], row["村（社区）"]) == ("男", "在册", "东村")
    text = all_text(response.content)
    assert FULL_ID not in text and FULL_ACCOUNT not in text
    assert FULL_ID[:14] not in text
    assert not AccessLog.objects.exists()


def test_an_unmasked_export_needs_the_permission(client, office, leader, person):
    for user in (office, leader):
        client.force_login(user)
        assert export(client, unmasked="1").status_code == 403
    assert not AccessLog.objects.exists()


def test_an_unmasked_export_is_logged_with_its_filter_and_count(client, office, county, person, township):
    grant_reveal(office)
    client.force_login(office)
    response = export(client, unmasked="1", township=township.pk, category=Category.DISABLED)
    assert response.status_code == 200
    row = dict(zip(HEADER, cells(response.content)[1], strict=True))
    assert (row["身份证号"], row["银行账号"]) == (FULL_ID, FULL_ACCOUNT)
    log = AccessLog.objects.get()
    assert (log.kind, log.user, log.unit, log.beneficiary) == (AccessKind.EXPORT_UNMASKED, office, county, None)
    assert log.detail == "筛选：乡镇（街道）=溧东镇；优抚类别=残疾军人；共 1 人"
    assert log.ip_address == "127.0.0.1"


def test_a_full_id_number_in_the_filter_stays_out_of_the_log(client, office, person):
    grant_reveal(office)
    client.force_login(office)
    export(client, unmasked="1", q=FULL_ID)
    detail = AccessLog.objects.get().detail
    assert FULL_ID not in detail and FULL_ID[-4:] in detail


def test_the_export_keeps_the_list_filters(client, office, person, other_township):
    make_person(other_township, 1, name="雅灰对象")
    client.force_login(office)
    names = [row[0] for row in cells(export(client).content)[1:]]
    assert sorted(names) == ["王建国", "雅灰对象"]
    names = [row[0] for row in cells(export(client, township=other_township.pk).content)[1:]]
    assert names == ["雅灰对象"]
    names = [row[0] for row in cells(export(client, category=Category.DISABLED).content)[1:]]
    assert names == ["王建国"]


def test_formula_cells_are_written_as_text(client, office, township):
    make_person(township, 1, name="=张三", address="+1 东村", notes="@SUM(A1)", cadre="-李四")
    client.force_login(office)
    row = dict(zip(HEADER, cells(export(client).content)[1], strict=True))
    assert (row["姓名"], row["住址"], row["备注"], row["包户责任人"]) == ("'=张三", "'+1 东村", "'@SUM(A1)", "'-李四")


def test_a_leader_exports_masked(client, leader, person):
    client.force_login(leader)
    response = export(client)
    assert response.status_code == 200
    assert FULL_ID not in all_text(response.content)
    assert client.get(reverse("beneficiaries:import")).status_code == 404


def test_an_outsider_exports_none_of_our_people(client, outsider, person, township):
    client.force_login(outsider)
    for params in ({}, {"township": township.pk}):
        response = export(client, **params)
        assert response.status_code == 200
        assert cells(response.content)[1:] == []
    assert "王建国" not in all_text(export(client).content)


def test_a_large_export_runs_as_a_job_only_its_owner_can_download(
    client, office, director, outsider, person, township, monkeypatch, django_capture_on_commit_callbacks
):
    make_person(township, 1)
    monkeypatch.setattr(exporters, "BACKGROUND_FROM_ROWS", 1)
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client)
    job = Job.objects.get(kind=EXPORT_KIND)
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert job.status == JobStatus.DONE
    page = client.get(job.get_absolute_url()).content.decode()
    download = reverse("beneficiaries:export_download", args=[job.pk])
    assert "已导出 2 人的名册。" in page and download in page
    response = client.get(download)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert sorted(row[0] for row in cells(content)[1:]) == ["对象1", "王建国"]
    assert FULL_ID not in all_text(content)
    for other in (director, outsider):
        client.force_login(other)
        assert client.get(download).status_code == 404


def test_a_large_unmasked_export_is_logged_once_when_asked(
    client, office, person, township, monkeypatch, django_capture_on_commit_callbacks
):
    make_person(township, 1)
    grant_reveal(office)
    monkeypatch.setattr(exporters, "BACKGROUND_FROM_ROWS", 1)
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        export(client, unmasked="1")
    job = Job.objects.get(kind=EXPORT_KIND)
    content = b"".join(client.get(reverse("beneficiaries:export_download", args=[job.pk])).streaming_content)
    assert FULL_ID in all_text(content)
    assert AccessLog.objects.get().detail == "筛选：全部；共 2 人"


def test_the_download_of_an_unfinished_job_is_404(client, office):
    job = Job.objects.create(kind=EXPORT_KIND, created_by=office)
    client.force_login(office)
    assert client.get(reverse("beneficiaries:export_download", args=[job.pk])).status_code == 404


# The command


def test_the_command_exports_a_county_masked(tmp_path, person, other_township_far):
    make_person(other_township_far, 2, name="外县对象")
    target = tmp_path / "名册.xlsx"
    out = io.StringIO()
    call_command("export_beneficiaries", "--unit", "320481", "--out", str(target), stdout=out)
    assert "已导出 1 人" in out.getvalue()
    content = target.read_bytes()
    assert [row[0] for row in cells(content)[1:]] == ["王建国"]
    assert FULL_ID not in all_text(content)


def test_the_command_exports_unmasked_only_for_a_user_with_the_permission(tmp_path, office, county, person):
    target = tmp_path / "名册.xlsx"
    with pytest.raises(CommandError, match="不脱敏导出须用 --user"):
        call_command("export_beneficiaries", "--unit", "320481", "--out", str(target), "--unmasked")
    with pytest.raises(CommandError, match="不脱敏导出须用 --user"):
        call_command("export_beneficiaries", "--unit", "320481", "--out", str(target), "--unmasked", "--user", "office")
    assert not target.exists()
    grant_reveal(office)
    call_command(
        "export_beneficiaries",
        "--unit",
        "320481",
        "--out",
        str(target),
        "--unmasked",
        "--user",
        "office",
        stdout=io.StringIO(),
    )
    assert FULL_ID in all_text(target.read_bytes())
    log = AccessLog.objects.get()
    assert (log.kind, log.user, log.unit) == (AccessKind.EXPORT_UNMASKED, office, county)
    assert log.detail == "筛选：命令行导出 示例县全部；共 1 人"


def test_the_command_refuses_a_user_outside_the_unit(tmp_path, outsider, person):
    with pytest.raises(CommandError, match="无权查看示例县的优抚对象"):
        call_command(
            "export_beneficiaries", "--unit", "320481", "--out", str(tmp_path / "x.xlsx"), "--user", "outsider"
        )
