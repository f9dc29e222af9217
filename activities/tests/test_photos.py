import datetime
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, PngImagePlugin

from activities import services
from activities.models import Activity, Photo

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 8, 10, 10, 0), tick=False):
        yield


def jpeg_with_gps(size=(3000, 2000), orientation=None):
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (31.0, 25.0, 12.0), 3: "E", 4: (119.0, 29.0, 3.0)}
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")


def png(size=(800, 600), name="合影.png", mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def stored(field):
    with field.open("rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def test_a_phone_jpeg_is_kept_upright_downscaled_and_without_gps(activity, office):
    photo = services.photo_add(activity=activity, file=jpeg_with_gps(orientation=6), uploaded_by=office)
    image, thumbnail = stored(photo.image), stored(photo.thumbnail)
    assert image.format == "JPEG"
    # Orientation 6 means “turn 90°”: the stored picture is upright (portrait) and at most 2000 px.
    assert image.size == (photo.width, photo.height) == (1333, 2000)
    assert max(thumbnail.size) == 320
    for picture in (image, thumbnail):
        exif = picture.getexif()
        assert GPS_IFD not in exif
        assert not exif.get_ifd(GPS_IFD)
        assert 0x010F not in exif
    assert photo.original_name == "IMG_0001.jpg"
    assert photo.content_type == "image/jpeg"
    assert photo.size == photo.image.size
    # Stored under a random name that reveals nothing of the original.
    assert "IMG_0001" not in photo.image.name
    assert photo.image.name.startswith("activity-photos/")


def test_a_png_is_accepted_with_a_thumbnail_and_without_its_metadata(activity, office):
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (31.0, 25.0, 12.0)}
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "拍摄于某营区")
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buffer, "PNG", exif=exif.tobytes(), pnginfo=text)
    upload = SimpleUploadedFile("合影.png", buffer.getvalue())
    photo = services.photo_add(activity=activity, file=upload, caption="合影", uploaded_by=office)
    image = stored(photo.image)
    assert image.format == "PNG"
    assert not image.getexif()
    assert "Comment" not in image.info
    assert stored(photo.thumbnail).size == (320, 240)
    assert (photo.width, photo.height, photo.caption) == (800, 600, "合影")
    activity.refresh_from_db()
    assert activity.photo_count == 1


def test_a_text_file_named_jpg_is_refused(activity, office):
    fake = SimpleUploadedFile("现场.jpg", b"just some text, not a picture at all\n" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        services.photo_add(activity=activity, file=fake, uploaded_by=office)
    assert error.value.messages == ["照片：文件“现场.jpg”不是图片（JPEG/PNG）。"]
    assert Photo.objects.count() == 0


def test_a_pdf_is_refused_as_a_photo(activity, office):
    pdf = SimpleUploadedFile("合影.png", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    with pytest.raises(ValidationError, match="不是图片"):
        services.photo_add(activity=activity, file=pdf, uploaded_by=office)


def test_a_photo_over_the_size_limit_is_refused(activity, office, settings):
    settings.PHOTO_MAX_BYTES = 2000
    with pytest.raises(ValidationError) as error:
        services.photo_add(activity=activity, file=jpeg_with_gps(), uploaded_by=office)
    assert error.value.messages == ["照片：文件“IMG_0001.jpg”超过 1 KB 上限。"]
    assert Photo.objects.count() == 0


def test_a_decompression_bomb_is_refused_before_it_is_decoded(activity, office):
    with pytest.raises(ValidationError, match="像素过大"):
        services.photo_add(activity=activity, file=png(size=(10000, 7000), mode="1"), uploaded_by=office)


def test_a_truncated_jpeg_is_refused_even_after_weasyprint_relaxed_pillow(activity, office, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what importing WeasyPrint does
    whole = jpeg_with_gps().read()
    broken = SimpleUploadedFile("半张.jpg", whole[: len(whole) // 2], content_type="image/jpeg")
    with pytest.raises(ValidationError, match="已损坏或不完整"):
        services.photo_add(activity=activity, file=broken, uploaded_by=office)


# Pages


def test_the_upload_page_adds_several_photos_at_once(client, liaison, activity):
    client.force_login(liaison)
    response = client.post(
        reverse("activities:photo_add", args=[activity.pk]),
        {"photos": [png(name="一.png"), png(name="二.png")], "caption": "植树现场"},
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert '照片 <span class="text-muted small">2 张</span>' in page
    for photo in Photo.objects.all():
        assert reverse("activities:photo_thumbnail", args=[photo.pk]) in page
        assert reverse("activities:photo", args=[photo.pk]) in page


def test_the_upload_page_refuses_all_when_one_file_is_bad(client, liaison, activity):
    client.force_login(liaison)
    fake = SimpleUploadedFile("二.jpg", b"not an image at all\n" * 10)
    response = client.post(reverse("activities:photo_add", args=[activity.pk]), {"photos": [png(), fake]})
    assert response.status_code == 200
    assert "照片：文件“二.jpg”不是图片（JPEG/PNG）。" in response.content.decode()
    assert Photo.objects.count() == 0


def test_a_photo_is_served_inline_privately_to_those_who_see_the_activity(client, office, leader, outsider, activity):
    photo = services.photo_add(activity=activity, file=png(), uploaded_by=office)
    client.force_login(leader)
    for name in ("activities:photo", "activities:photo_thumbnail"):
        response = client.get(reverse(name, args=[photo.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("private")
        assert response["Content-Disposition"].startswith("inline")
        assert Image.open(io.BytesIO(b"".join(response.streaming_content))).format == "PNG"
    client.force_login(outsider)
    assert client.get(reverse("activities:photo", args=[photo.pk])).status_code == 404


def test_a_removed_photo_leaves_the_gallery_and_is_no_longer_served(client, liaison, leader, office, activity):
    photo = services.photo_add(activity=activity, file=png(), uploaded_by=office)
    client.force_login(leader)
    assert client.post(reverse("activities:photo_remove", args=[photo.pk])).status_code == 404
    client.force_login(liaison)
    response = client.post(reverse("activities:photo_remove", args=[photo.pk]))
    assert response.url == activity.get_absolute_url()
    assert client.get(reverse("activities:photo", args=[photo.pk])).status_code == 404
    assert "暂无照片" in client.get(activity.get_absolute_url()).content.decode()
    assert Activity.objects.get().photo_count == 0
    # The file itself stays, as records do.
    assert Photo.objects.get().image.storage.exists(photo.image.name)
