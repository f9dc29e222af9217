"""Faults the test_faults modules cause: storage that fails as a full disk does (and a way to see what an upload
left in MEDIA_ROOT), and two people saving the same record from forms loaded at the same time."""

import errno
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from shuangyong.lib.uploads import STORAGE_FAILED, STORAGE_FULL
from shuangyong.tests.pages import form_as_loaded

__all__ = [
    "STORAGE_FAILED",
    "STORAGE_FULL",
    "assert_refused_as_changed",
    "disk_full",
    "edit_on_stale_form",
    "media_files",
    "row_save_fails",
    "upload_onto_full_disk",
    "upload_whose_row_fails",
]


def disk_full(monkeypatch, *, partial=True):
    """Make every file written to disk fail with ENOSPC: half-way, leaving the part written as a full disk does,
    or (partial=False) before a byte is written."""

    def write_half(self, name, content):
        if partial:
            path = Path(self.path(name))
            path.parent.mkdir(parents=True, exist_ok=True)
            content.seek(0)
            data = content.read()
            with open(path, "wb") as handle:
                handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(FileSystemStorage, "_save", write_half)


def row_save_fails(monkeypatch, model):
    """Make saving a row of the model fail in the database, after its file is written."""

    def fail(self, *args, **kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(model, "save", fail)


def media_files():
    """Every file under MEDIA_ROOT, as paths relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def upload_onto_full_disk(monkeypatch, client, user, send, *args, partial=True):
    """Send an upload as the user onto a full disk (see disk_full); assert it is refused with the full-disk message
    and leaves no file. `send(client, *args)` posts the form."""
    disk_full(monkeypatch, partial=partial)
    return _refused(client, user, send, args, STORAGE_FULL)


def upload_whose_row_fails(monkeypatch, client, user, model, send, *args):
    """Send an upload as the user while rows of the model cannot be saved; assert it is refused with the storage
    message and its file removed."""
    row_save_fails(monkeypatch, model)
    return _refused(client, user, send, args, STORAGE_FAILED)


def _refused(client, user, send, args, message):
    client.force_login(user)
    response = send(client, *args)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert media_files() == []
    return response


def edit_on_stale_form(url, first_user, first_changes, second_user, second_changes):
    """Both users open the edit form at url; the first saves first_changes, then the second saves second_changes on
    the form as they loaded it. Returns the second user's response."""
    first, second = Client(), Client()
    first.force_login(first_user)
    second.force_login(second_user)
    first_form, second_form = form_as_loaded(first.get(url)), form_as_loaded(second.get(url))
    assert first.post(url, {**first_form, **first_changes}).status_code == 302
    return second.post(url, {**second_form, **second_changes})


def assert_refused_as_changed(response, record, name):
    """Assert the save was refused with who (name) changed the record last and when; return that history row."""
    saved = record.history.first()
    when = timezone.localtime(saved.history_date)
    assert response.status_code == 200
    assert f"该记录已被{name}于 {when:%Y-%m-%d %H:%M} 修改，您的修改没有保存" in response.content.decode()
    return saved
