from django.urls import reverse

from conftest import xlsx_upload
from shuangyong.tests.storage_faults import STORAGE_FULL, disk_full, media_files
from units.models import Job


def test_a_unit_workbook_uploaded_onto_a_full_disk_is_refused_with_a_message_and_starts_no_job(
    client, office, monkeypatch
):
    disk_full(monkeypatch, partial=False)
    client.force_login(office)
    upload = xlsx_upload("单位", ["单位名称"], [["示例县民政局"]], name="单位导入.xlsx")

    response = client.post(reverse("units:import"), {"file": upload})

    assert response.status_code == 200
    assert STORAGE_FULL in response.content.decode()
    assert not Job.objects.exists()
    assert media_files() == []
