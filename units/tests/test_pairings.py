import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from shuangyong.lib.uploads import check_upload
from units import services
from units.constants import UnitKind
from units.models import Agreement, Pairing, Unit

PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def pdf_file(name="共建协议.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_file(name="续签协议.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def create_form(civil, military, **extra):
    return {
        "civil_unit": civil.pk,
        "military_unit": military.pk,
        "signed_on": "2025-03-01",
        "goals": "共建文明村镇",
        **extra,
    }


def test_it_creates_a_pairing_with_a_pdf_agreement(client, office, township, military_unit, settings):
    client.force_login(office)
    response = client.post(
        reverse("units:pairing_create"), create_form(township, military_unit, agreement_file=pdf_file())
    )
    pairing = Pairing.objects.get(civil_unit=township, military_unit=military_unit)
    assert response.url == pairing.get_absolute_url()
    agreement = pairing.agreements.get()
    assert agreement.original_name == "共建协议.pdf"
    assert agreement.content_type == "application/pdf"
    assert agreement.size == len(PDF)
    assert agreement.uploaded_by == office
    # The stored name is random and keeps nothing of the original name.
    assert agreement.file.name.endswith(".pdf") and "共建协议" not in agreement.file.name
    assert [path.read_bytes() for path in stored_files(settings)] == [PDF]
    page = client.get(pairing.get_absolute_url()).content.decode()
    assert "共建协议.pdf" in page and "共建文明村镇" in page and "2025-03-01" in page


def test_it_serves_an_agreement_as_an_attachment(client, office, pairing):
    agreement = services.agreement_add(
        pairing=pairing, signed_on=datetime.date(2024, 3, 5), file=pdf_file(), uploaded_by=office
    )
    client.force_login(office)
    response = client.get(reverse("units:agreement_file", args=[agreement.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_name_with_control_characters_still_downloads(client, office, pairing):
    agreement = services.agreement_add(
        pairing=pairing, signed_on=datetime.date(2024, 3, 5), file=pdf_file("协议\r\n2024.pdf"), uploaded_by=office
    )
    assert agreement.original_name == "协议2024.pdf"
    client.force_login(office)
    response = client.get(reverse("units:agreement_file", args=[agreement.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


def test_resigning_keeps_both_agreements(client, office, pairing):
    client.force_login(office)
    url = reverse("units:agreement_add", args=[pairing.pk])
    client.post(url, {"signed_on": "2024-03-05", "file": pdf_file("2024年协议.pdf")})
    response = client.post(url, {"signed_on": "2025-03-05", "file": png_file("2025年续签.png"), "note": "续签"})
    assert response.url == pairing.get_absolute_url()
    assert list(pairing.agreements.values_list("original_name", "content_type")) == [
        ("2025年续签.png", "image/png"),
        ("2024年协议.pdf", "application/pdf"),
    ]
    table = client.get(pairing.get_absolute_url()).content.decode().split("共建协议</h2>")[1]
    assert table.index("2025年续签.png") < table.index("2024年协议.pdf")


def test_two_civil_units_are_refused(client, office, township, bureau):
    client.force_login(office)
    response = client.post(reverse("units:pairing_create"), create_form(township, bureau))
    assert response.status_code == 200
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not Pairing.objects.exists()
    with pytest.raises(ValidationError) as refused:
        services.pairing_create(civil_unit=township, military_unit=bureau, signed_on=datetime.date(2025, 3, 1))
    assert "示例县规划局" in refused.value.message_dict["military_unit"][0]
    assert not Pairing.objects.exists()


def test_the_service_creates_a_pairing_without_an_uploader(client, office, township, military_unit):
    pairing = services.pairing_create(
        civil_unit=township,
        military_unit=military_unit,
        signed_on=datetime.date(2025, 3, 1),
        agreement_file=png_file(),
    )
    assert pairing.agreements.get().uploaded_by is None
    client.force_login(office)
    assert "续签协议.png" in client.get(pairing.get_absolute_url()).content.decode()


def test_two_military_units_are_refused(military_unit, fire_brigade):
    with pytest.raises(ValidationError) as refused:
        services.pairing_create(
            civil_unit=fire_brigade, military_unit=military_unit, signed_on=datetime.date(2025, 3, 1)
        )
    assert "地方单位一栏应选择地方单位" in refused.value.message_dict["civil_unit"][0]
    assert not Pairing.objects.exists()


def test_a_partner_force_can_be_paired(client, office, township, fire_brigade):
    client.force_login(office)
    client.post(reverse("units:pairing_create"), create_form(township, fire_brigade))
    assert Pairing.objects.filter(civil_unit=township, military_unit=fire_brigade).exists()


def test_a_military_unit_of_another_county_is_refused(client, office, township, other_county):
    far_unit = Unit.objects.create(name="邻县人武部", kind=UnitKind.MILITARY, parent=other_county)
    client.force_login(office)
    response = client.post(reverse("units:pairing_create"), create_form(township, far_unit))
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not Pairing.objects.exists()


def test_a_duplicate_active_pairing_is_refused(client, office, pairing):
    client.force_login(office)
    response = client.post(reverse("units:pairing_create"), create_form(pairing.civil_unit, pairing.military_unit))
    assert "已有进行中的共建对子" in response.content.decode()
    assert Pairing.objects.count() == 1


def test_an_exe_renamed_pdf_is_refused_and_leaves_nothing(client, office, township, military_unit, settings):
    client.force_login(office)
    response = client.post(
        reverse("units:pairing_create"),
        create_form(township, military_unit, agreement_file=pdf_file("协议.pdf", content=EXE)),
    )
    assert response.status_code == 200
    assert "文件“协议.pdf”不是 PDF 或图片（JPEG/PNG）" in response.content.decode()
    assert not Pairing.objects.exists()
    assert not Agreement.objects.exists()
    assert stored_files(settings) == []


def test_an_oversize_upload_is_refused(client, office, pairing, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    client.force_login(office)
    response = client.post(
        reverse("units:agreement_add", args=[pairing.pk]),
        {"signed_on": "2025-03-05", "file": pdf_file("大文件.pdf", content=PDF + b"0" * 2048)},
    )
    assert "文件“大文件.pdf”超过 1 KB 上限" in response.content.decode()
    assert not Agreement.objects.exists()
    assert stored_files(settings) == []


def test_it_removes_the_stored_file_when_the_row_cannot_be_saved(office, pairing, settings, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Agreement, "save", broken_save)
    with pytest.raises(DatabaseError):
        services.agreement_add(
            pairing=pairing, signed_on=datetime.date(2025, 3, 5), file=pdf_file(), uploaded_by=office
        )
    assert stored_files(settings) == []


def test_outsider_gets_404_on_a_pairing_and_its_file(client, outsider, office, pairing):
    agreement = services.agreement_add(
        pairing=pairing, signed_on=datetime.date(2024, 3, 5), file=pdf_file(), uploaded_by=office
    )
    client.force_login(outsider)
    assert client.get(pairing.get_absolute_url()).status_code == 404
    assert client.get(reverse("units:agreement_file", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("units:agreement_add", args=[pairing.pk])).status_code == 404
    assert "溧东镇" not in client.get(reverse("units:pairings")).content.decode()


def test_leader_reads_a_pairing_but_posting_gets_404(client, leader, office, pairing):
    agreement = services.agreement_add(
        pairing=pairing, signed_on=datetime.date(2024, 3, 5), file=pdf_file(), uploaded_by=office
    )
    client.force_login(leader)
    page = client.get(pairing.get_absolute_url()).content.decode()
    assert "共建协议.pdf" in page and "上传新协议" not in page
    assert client.get(reverse("units:agreement_file", args=[agreement.pk])).status_code == 200
    assert (
        client.post(
            reverse("units:agreement_add", args=[pairing.pk]), {"signed_on": "2025-03-05", "file": pdf_file()}
        ).status_code
        == 404
    )
    end = {"ended_on": "2025-03-05", "end_reason": "部队移防"}
    assert client.post(reverse("units:pairing_end", args=[pairing.pk]), end).status_code == 404
    assert client.post(reverse("units:pairing_edit", args=[pairing.pk]), {"goals": "改"}).status_code == 404
    assert client.get(reverse("units:pairing_create")).status_code == 404
    pairing.refresh_from_db()
    assert pairing.ended_on is None and pairing.goals == "共建文明村镇"
    assert pairing.agreements.count() == 1


def test_liaison_creates_a_pairing_for_the_township_but_not_for_the_bureau(
    client, liaison, township, bureau, military_unit, fire_brigade
):
    bureau_pairing = Pairing.objects.create(
        civil_unit=bureau, military_unit=fire_brigade, signed_on=datetime.date(2024, 1, 1)
    )
    client.force_login(liaison)
    client.post(reverse("units:pairing_create"), create_form(township, military_unit))
    assert Pairing.objects.filter(civil_unit=township, military_unit=military_unit).exists()
    assert client.get(bureau_pairing.get_absolute_url()).status_code == 404
    response = client.post(reverse("units:pairing_create"), create_form(bureau, military_unit))
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not Pairing.objects.filter(civil_unit=bureau, military_unit=military_unit).exists()


def test_an_end_date_before_the_signed_date_is_refused(client, office, pairing):
    client.force_login(office)
    response = client.post(
        reverse("units:pairing_end", args=[pairing.pk]), {"ended_on": "2024-03-04", "end_reason": "部队移防"}
    )
    assert "结束日期不能早于结对日期（2024-03-05）" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.ended_on is None


def test_it_ends_a_pairing_and_keeps_it_in_the_ended_list(client, office, pairing):
    client.force_login(office)
    client.post(reverse("units:pairing_end", args=[pairing.pk]), {"ended_on": "2025-06-30", "end_reason": "部队移防"})
    pairing.refresh_from_db()
    assert pairing.ended_on == datetime.date(2025, 6, 30) and pairing.end_reason == "部队移防"
    assert "已于 2025-06-30 结束" in client.get(reverse("units:pairings") + "?status=ended").content.decode()
    assert "示例县人武部" not in client.get(reverse("units:pairings") + "?status=active").content.decode()


def test_it_changes_the_goals(client, liaison, pairing):
    client.force_login(liaison)
    client.post(reverse("units:pairing_edit", args=[pairing.pk]), {"goals": "共建双拥示范街"})
    pairing.refresh_from_db()
    assert pairing.goals == "共建双拥示范街"


def test_the_list_groups_by_military_unit(client, office, township, other_township, military_unit, fire_brigade):
    for civil in (township, other_township):
        Pairing.objects.create(civil_unit=civil, military_unit=military_unit, signed_on=datetime.date(2024, 5, 1))
    Pairing.objects.create(civil_unit=township, military_unit=fire_brigade, signed_on=datetime.date(2024, 6, 1))
    client.force_login(office)
    page = client.get(reverse("units:pairings") + "?by=military").content.decode()
    # The military unit heads its group once, followed by both townships.
    assert page.count("<strong>示例县人武部</strong>") == 1
    assert page.count("<strong>示例县消防救援大队</strong>") == 1
    assert "雅灰乡" in page


def make_pairings(county, military_unit, count, start):
    for i in range(start, start + count):
        civil = Unit.objects.create(name=f"共建单位{i:02d}", kind=UnitKind.DEPARTMENT, parent=county)
        pairing = Pairing.objects.create(
            civil_unit=civil, military_unit=military_unit, signed_on=datetime.date(2024, 1, 1)
        )
        Agreement.objects.create(
            pairing=pairing,
            signed_on=pairing.signed_on,
            file="agreements/x.pdf",
            original_name="x.pdf",
            content_type="application/pdf",
            size=1,
        )


@pytest.mark.parametrize("by", ["civil", "military"])
def test_the_list_query_count_does_not_grow(client, office, county, military_unit, by, django_assert_max_num_queries):
    url = reverse("units:pairings") + f"?by={by}"
    make_pairings(county, military_unit, 3, 0)
    client.force_login(office)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    make_pairings(county, military_unit, 27, 3)
    with django_assert_max_num_queries(len(few)):
        page = client.get(url).content.decode()
    assert "共建单位29" in page and "1 份" in page


def test_check_upload_judges_by_content_not_by_name():
    assert check_upload(png_file("看起来是.pdf")) == ("png", "image/png")
    assert check_upload(pdf_file("scan.png")) == ("pdf", "application/pdf")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "JPEG")
    assert check_upload(SimpleUploadedFile("photo.bin", buffer.getvalue())) == ("jpg", "image/jpeg")
    with pytest.raises(ValidationError, match="文件“x.exe”不是 PDF 或图片（JPEG/PNG）"):
        check_upload(SimpleUploadedFile("x.exe", EXE, content_type="application/pdf"))
    with pytest.raises(ValidationError, match="不是图片（JPEG/PNG）"):
        check_upload(pdf_file(), allowed=("jpg", "png"))
    with pytest.raises(ValidationError, match="空文件"):
        check_upload(SimpleUploadedFile("empty.pdf", b""))
    with pytest.raises(ValidationError, match="文件“big.pdf”超过 10 MB 上限"):
        check_upload(pdf_file("big.pdf", content=PDF + b"0" * (10 * 1024 * 1024)))


def test_unit_page_offers_a_new_pairing_to_those_who_may_create_one(client, liaison, leader, township, military_unit):
    client.force_login(liaison)
    page = client.get(township.get_absolute_url()).content.decode()
    assert f"{reverse('units:pairing_create')}?civil={township.pk}" in page
    form = client.get(reverse("units:pairing_create") + f"?civil={township.pk}").content.decode()
    assert "示例县人武部" in form
    client.force_login(leader)
    assert "新建共建对子" not in client.get(township.get_absolute_url()).content.decode()


def test_the_database_refuses_a_second_active_pairing_of_the_same_units(pairing):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(
            civil_unit=pairing.civil_unit, military_unit=pairing.military_unit, signed_on=pairing.signed_on
        )
