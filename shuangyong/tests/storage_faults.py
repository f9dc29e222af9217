"""Storage that fails as a full disk does, and a way to see what an upload left in MEDIA_ROOT."""

import errno
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError

from shuangyong.lib.uploads import STORAGE_FAILED, STORAGE_FULL

__all__ = ["STORAGE_FAILED", "STORAGE_FULL", "disk_full", "media_files", "row_save_fails"]


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
