"""Check uploaded files by their content, never by their name, store them under random names and send them back."""

import datetime
import errno
import logging
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import filetype
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DatabaseError, transaction
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header

# kind -> (content type, label)
KINDS = {
    "pdf": ("application/pdf", "PDF"),
    "jpg": ("image/jpeg", "JPEG"),
    "png": ("image/png", "PNG"),
}
DOCUMENTS = ("pdf", "jpg", "png")
SNIFF_BYTES = 262  # the most filetype ever reads
MB = 1024 * 1024


def format_size(size):
    """Return a size as people read it: 10 MB, 1.5 MB, 200 KB."""
    if size >= MB:
        value = size / MB
        return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} 字节"


def describe(allowed):
    """Return the allowed kinds in words: “PDF 或图片（JPEG/PNG）”."""
    parts = ["PDF"] if "pdf" in allowed else []
    images = [KINDS[kind][1] for kind in allowed if kind != "pdf"]
    if images:
        parts.append(f"图片（{'/'.join(images)}）")
    return " 或".join(parts)


def sniff(head):
    """Return the kind that the first bytes of a file reveal, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    match = filetype.guess(head)
    return match.extension if match else None


def base_name(uploaded_file):
    """Return the file's own name without any folder a browser may have sent."""
    return (getattr(uploaded_file, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]


def display_name(uploaded_file, limit=60):
    name = base_name(uploaded_file)
    return name if len(name) <= limit else name[: limit - 1] + "…"


# Stored uploads that count against a user's daily quota: each model has size, uploaded_by and uploaded_at.
QUOTA_MODELS = ("units.Agreement", "activities.Photo", "reports.ReportAttachment")


def uploaded_today(user):
    """Return the bytes the user has stored today (local time) in the uploads that keep their size."""
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    total = 0
    for label in QUOTA_MODELS:
        rows = apps.get_model(label).objects.filter(uploaded_by=user, uploaded_at__gte=start)
        total += rows.aggregate(total=Sum("size"))["total"] or 0
    return total


def check_quota(user, incoming):
    """Raise ValidationError when storing `incoming` more bytes would pass the user's daily upload quota."""
    quota = settings.UPLOAD_QUOTA_BYTES_PER_DAY
    if not quota or user is None or not getattr(user, "pk", None):
        return
    used = uploaded_today(user)
    if used + incoming > quota:
        raise ValidationError(
            f"今日上传已达 {format_size(used)}，每人每天最多上传 {format_size(quota)}，请明天再传或联系管理员。",
            code="quota",
        )


def check_upload(uploaded_file, *, allowed=DOCUMENTS, max_bytes=None, user=None):
    """Return (kind, content_type) judged from the file's content; raise ValidationError if it is refused.

    max_bytes defaults to settings.UPLOAD_MAX_BYTES, read at call time; with a user, the daily quota applies too.
    """
    max_bytes = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    name = display_name(uploaded_file)
    size = uploaded_file.size or 0
    if size == 0:
        raise ValidationError(f"文件“{name}”是空文件。", code="empty")
    if size > max_bytes:
        raise ValidationError(f"文件“{name}”超过 {format_size(max_bytes)} 上限。", code="too_big")
    check_quota(user, size)
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    kind = sniff(head)
    if kind not in allowed:
        expected = describe(allowed)
        gap = " " if expected[:1].isascii() else ""
        raise ValidationError(f"文件“{name}”不是{gap}{expected}。", code="bad_type")
    return kind, KINDS[kind][0]


def random_name(kind):
    """Return a stored file name that reveals nothing of the original: uuid plus the checked extension."""
    return f"{uuid.uuid4().hex}.{kind}"


STORAGE_FULL = "文件保存失败：存储空间不足，没有保存任何内容。请联系系统管理员。"
STORAGE_FAILED = "文件保存失败，没有保存任何内容。请稍后重试；如仍不成功，请联系系统管理员。"
_stored = threading.local()
logger = logging.getLogger(__name__)


def store_file(field_file, name, content):
    """Save content to a model's FileField without saving the row; inside `files_atomic` it goes again on failure."""
    storage = field_file.storage
    target = field_file.field.generate_filename(field_file.instance, name)
    existed = storage.exists(target)
    try:
        field_file.save(name, content, save=False)
    except OSError:
        if not existed and storage.exists(target):
            storage.delete(target)  # the part a full disk let through
        raise
    blocks = getattr(_stored, "blocks", [])
    if blocks:
        blocks[-1].append((field_file.storage, field_file.name))


@contextmanager
def files_atomic(*, field=None):
    """Run a transaction that stores uploads with `store_file`: if it fails, the files it stored are removed again
    (and so are they if an enclosing `files_atomic` fails).

    A storage failure (OSError), or a database failure once a file is stored, becomes a ValidationError for the user,
    under `field` of the form when given. Usable as a decorator in place of `transaction.atomic`.
    """
    blocks = _stored.__dict__.setdefault("blocks", [])
    stored = []
    blocks.append(stored)
    try:
        with transaction.atomic():
            yield
    except BaseException as error:
        for storage, name in stored:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not remove the stored file %s", name)
        if isinstance(error, OSError) or (stored and isinstance(error, DatabaseError)):
            logger.exception("An upload could not be kept")
            full = isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)
            message = STORAGE_FULL if full else STORAGE_FAILED
            raise ValidationError({field: message} if field else message, code="storage") from error
        raise
    finally:
        blocks.pop()
    if blocks:
        blocks[-1].extend(stored)  # an enclosing block may still roll back


def original_name(uploaded_file, max_length=200):
    """Return the uploaded file's own name, cut to fit the database column but keeping its extension."""
    # Control characters would break the Content-Disposition header on download.
    name = "".join(ch for ch in base_name(uploaded_file) if ch.isprintable()).strip() or "未命名"
    if len(name) <= max_length:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) < 10:
        return stem[: max_length - len(ext) - 1] + "." + ext
    return name[:max_length]


def _accel_path(storage, name):
    """Return the URL under MEDIA_X_ACCEL_REDIRECT that nginx serves the file from, or None to send it ourselves."""
    prefix = settings.MEDIA_X_ACCEL_REDIRECT
    if not prefix or not isinstance(storage, FileSystemStorage):
        return None
    try:
        relative = Path(storage.path(name)).resolve().relative_to(Path(settings.MEDIA_ROOT).resolve())
    except ValueError:
        return None
    return prefix.rstrip("/") + "/" + quote(relative.as_posix())


def private_file_response(
    name, *, filename, content_type, storage=None, as_attachment=True, cache_control="private, no-store"
):
    """Send a stored file to a caller who has already checked access; 404 when it is gone.

    With settings.MEDIA_X_ACCEL_REDIRECT (behind nginx) the answer is empty and nginx sends the file from its
    internal location; otherwise Django streams it.
    """
    storage = storage or default_storage
    accel = _accel_path(storage, name)
    if accel is not None:
        if not storage.exists(name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    else:
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError as error:
            raise Http404 from error
        response = FileResponse(handle, as_attachment=as_attachment, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache_control
    return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose body is larger than settings.UPLOAD_MAX_REQUEST_BYTES before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.UPLOAD_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit and length > limit:
            html = render_to_string("413.html", {"limit": format_size(limit)}, request=request)
            return HttpResponse(html, status=413)
        return self.get_response(request)
