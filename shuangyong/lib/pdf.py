"""Render server-built templates to PDF with WeasyPrint, fetching nothing but data: URLs and static files."""

import logging
import mimetypes
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

logger = logging.getLogger("shuangyong.security")

# Relative and /static/ URLs in PDF templates resolve against this origin; it is never contacted:
# the fetcher maps it onto the static files and refuses every other http(s) URL.
PDF_BASE_URL = "https://pdf-static.invalid/"
BASE_STYLESHEET = "css/pdf.css"
STATIC_SUFFIXES = {".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".otf", ".ttf", ".woff", ".woff2"}


class RefusedURL(ValueError):
    """A URL that the PDF fetcher will not fetch."""


class StaticOnlyURLFetcher(URLFetcher):
    """Serve data: URLs and the portal's static files; refuse file://, http(s)://, ftp and everything else.

    `timeout` is a budget in seconds for the whole rendering's fetching, `max_fetches` bounds loops.
    """

    def __init__(self, *, timeout=10, max_fetches=50, max_bytes=5 * 1024 * 1024):
        super().__init__(timeout=timeout, allowed_protocols={"data"}, allow_redirects=False)
        self.deadline = time.monotonic() + timeout
        self.max_fetches = max_fetches
        self.max_bytes = max_bytes
        self.requested = []
        self.refused = []

    def fetch(self, url, headers=None):
        self.requested.append(url)
        if time.monotonic() > self.deadline or len(self.requested) > self.max_fetches:
            self.refused.append(url)
            raise FatalURLFetchingError("PDF 生成超时或引用的资源过多。")
        try:
            if url[:5].lower() == "data:":
                if len(url) > self.max_bytes:
                    raise RefusedURL("data: URL too large")
                return super().fetch(url, headers)
            return self._fetch_static(url)
        except RefusedURL as error:
            self.refused.append(url)
            logger.warning("pdf fetch refused: %.200s (%s)", url, error)
            raise

    def _fetch_static(self, url):
        path = static_path_for(url)
        if path.stat().st_size > self.max_bytes:
            raise RefusedURL("static file too large")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def static_path_for(url):
    """Return the file that a static URL on PDF_BASE_URL names, or raise RefusedURL."""
    base = urlsplit(PDF_BASE_URL)
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(prefix):
        raise RefusedURL("not a static file URL")
    relative = unquote(parts.path[len(prefix) :])
    segments = relative.split("/")
    if not relative or "\\" in relative or "\x00" in relative or any(s in {"", ".", ".."} for s in segments):
        raise RefusedURL("bad static path")
    if Path(relative).suffix.lower() not in STATIC_SUFFIXES:
        raise RefusedURL("static file type not allowed")
    found = finders.find(relative)
    if not found:
        raise RefusedURL("static file not found")
    path = Path(found).resolve()
    if not path.is_file() or not any(path.is_relative_to(root) for root in _static_roots()):
        raise RefusedURL("static file outside the static directories")
    return path


def _static_roots():
    roots = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    return roots


def base_stylesheet_text():
    path = static_path_for(f"{PDF_BASE_URL}{settings.STATIC_URL.strip('/')}/{BASE_STYLESHEET}")
    return path.read_text(encoding="utf-8")


def render_pdf(template_name, context, *, url_fetcher=None) -> bytes:
    """Render a template to PDF bytes with the base stylesheet and the CJK font."""
    fetcher = url_fetcher or StaticOnlyURLFetcher()
    html = render_to_string(template_name, context)
    font_config = FontConfiguration()
    stylesheets = [
        CSS(string=base_stylesheet_text(), base_url=PDF_BASE_URL, url_fetcher=fetcher, font_config=font_config),
        CSS(string=f"html {{ font-family: {settings.PDF_FONT_FAMILY}; }}", url_fetcher=fetcher),
    ]
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)


def pdf_response(pdf_bytes, filename, *, inline=True):
    """Return the PDF as a response whose file name may be Chinese (RFC 6266 / RFC 5987)."""
    if not filename.lower().endswith(".pdf"):
        filename += ".pdf"
    filename = filename.replace("/", "_").replace("\\", "_").replace('"', "").replace("\r", "").replace("\n", "")
    fallback = filename.encode("ascii", "ignore").decode() or "document.pdf"
    if fallback.startswith(".") or fallback == ".pdf":
        fallback = "document.pdf"
    disposition = "inline" if inline else "attachment"
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    response["Content-Disposition"] = f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
