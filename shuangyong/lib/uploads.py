"""Check uploaded files by their content, never by their name, and store them under random names."""

import uuid

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

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


def check_upload(uploaded_file, *, allowed=DOCUMENTS, max_bytes=None):
    """Return (kind, content_type) judged from the file's content; raise ValidationError if it is refused.

    max_bytes defaults to settings.UPLOAD_MAX_BYTES, read at call time.
    """
    max_bytes = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    name = display_name(uploaded_file)
    size = uploaded_file.size or 0
    if size == 0:
        raise ValidationError(f"文件“{name}”是空文件。", code="empty")
    if size > max_bytes:
        raise ValidationError(f"文件“{name}”超过 {format_size(max_bytes)} 上限。", code="too_big")
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


def private_file_response(name, *, filename, content_type, storage=None):
    """Send a stored file as a download to a caller who has already checked access; 404 when it is gone."""
    storage = storage or default_storage
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
