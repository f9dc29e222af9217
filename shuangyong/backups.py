"""Backups: a dated folder with the database dump, an archive of MEDIA_ROOT and a manifest; and their restore.

A backup is written under a hidden temporary name and renamed only when complete, so a folder named
shuangyong-YYYY-MM-DD-HHMMSS always holds a whole backup.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from shuangyong.integrity import TRANSIENT_MEDIA

PREFIX = "shuangyong-"
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA_ARCHIVE = "media.tar.gz"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Chinese."""


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"未找到 {name}，请先安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）。")
    return path


def pg_connection(db):
    """(arguments, environment) for pg_dump, pg_restore, psql and createdb; the password goes only in PGPASSWORD."""
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    if (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = db["OPTIONS"]["sslmode"]
    return args, env


def _run(command, *, env=None, what):
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what}失败：{error}") from error
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what}失败（退出码 {done.returncode}）：{' '.join(message[-3:])}")
    return done.stdout


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dump_database(connection, folder):
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        args, env = pg_connection(db)
        target = folder / PG_DUMP
        _run(
            [_tool("pg_dump"), "--format=custom", "--file", str(target), *args, "--dbname", db["NAME"]],
            env=env,
            what="导出数据库（pg_dump）",
        )
        return target
    if connection.vendor == "sqlite":
        if connection.in_atomic_block:
            raise BackupError("数据库连接处于未提交的事务中，不能备份 SQLite 数据库。")
        target = folder / SQLITE_COPY
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            # The backup API copies a consistent snapshot even while the portal writes.
            connection.connection.backup(copy)
        finally:
            copy.close()
        return target
    raise BackupError(f"不支持备份 {connection.vendor} 数据库，只支持 PostgreSQL 和 SQLite。")


def _archive_media(folder):
    """Pack MEDIA_ROOT (without its working folders) with names relative to it; return the number of files."""
    root = Path(settings.MEDIA_ROOT)
    target = folder / MEDIA_ARCHIVE
    count = 0
    with tarfile.open(target, "w:gz") as archive:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                name = path.relative_to(root).as_posix()
                if path.is_file() and not name.startswith(TRANSIENT_MEDIA):
                    archive.add(path, arcname=name, recursive=False)
                    count += 1
    return target, count


def _migration_state(connection):
    """The last applied migration of each app."""
    last = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > last.get(app, ""):
            last[app] = name
    return dict(sorted(last.items()))


def backup_create(*, dest, keep=None):
    """Write a complete backup folder under `dest`; return (its path, manifest, the older backups pruned)."""
    started = time.monotonic()
    connection = connections["default"]
    dest = Path(dest)
    now = timezone.localtime()
    name = f"{PREFIX}{now:%Y-%m-%d-%H%M%S}"
    final = dest / name
    partial = dest / f".{name}.partial"
    if final.exists():
        raise BackupError(f"备份目录 {final} 已存在，请稍后再试。")
    try:
        partial.mkdir(parents=True)
    except OSError as error:
        raise BackupError(f"无法创建备份目录 {partial}：{error}") from error
    try:
        database = _dump_database(connection, partial)
        media, media_files = _archive_media(partial)
        manifest = {
            "created_at": now.isoformat(),
            "database": {
                "engine": connection.vendor,
                "name": str(connection.settings_dict["NAME"]),
                "file": database.name,
            },
            "migrations": _migration_state(connection),
            "media": {"file": media.name, "files": media_files, "root": str(settings.MEDIA_ROOT)},
            "files": {path.name: {"size": path.stat().st_size, "sha256": _sha256(path)} for path in (database, media)},
        }
        manifest["seconds"] = round(time.monotonic() - started, 2)
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(partial, final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(f"写入备份失败：{error}") from error
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    pruned = backups_prune(dest=dest, keep=keep) if keep else []
    return final, manifest, pruned


def backup_folders(dest):
    """Complete backups under `dest`, oldest first."""
    dest = Path(dest)
    if not dest.is_dir():
        return []
    return sorted(path for path in dest.iterdir() if path.name.startswith(PREFIX) and (path / MANIFEST).is_file())


def backups_prune(*, dest, keep):
    """Delete all but the newest `keep` complete backups; return the deleted folders."""
    old = backup_folders(dest)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


# Restore


def read_manifest(source):
    """Read a backup's manifest and check every file's size and sha256 against it."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(f"{source} 不是完整的备份：缺少 {MANIFEST}。") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"无法读取 {source / MANIFEST}：{error}") from error
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"备份文件 {path} 不存在。")
        if path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            raise BackupError(f"备份文件 {path} 与清单不符（大小或 SHA-256 不同），可能已损坏。")
    return manifest


def _pg_table_count(db, args, env):
    output = _run(
        [
            _tool("psql"),
            *args,
            "--dbname",
            db["NAME"],
            "-Atc",
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
        ],
        env=env,
        what="检查目标数据库",
    )
    return int(output.strip() or 0)


def _pg_exists(db, args, env):
    output = _run(
        [_tool("psql"), *args, "--dbname", "postgres", "-Atc", "SELECT datname FROM pg_database"],
        env=env,
        what="连接 PostgreSQL",
    )
    return db["NAME"] in output.split()


def _restore_postgresql(source, manifest, db, *, force):
    args, env = pg_connection(db)
    if not _pg_exists(db, args, env):
        _run([_tool("createdb"), *args, db["NAME"]], env=env, what=f"创建数据库 {db['NAME']}")
    elif _pg_table_count(db, args, env) and not force:
        raise BackupError(f"目标数据库 {db['NAME']} 不是空的；确认要覆盖请加 --force。")
    command = [_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force:
        command += ["--clean", "--if-exists"]
    _run([*command, "--dbname", db["NAME"], str(source / manifest["database"]["file"])], env=env, what="恢复数据库")


def _restore_sqlite(source, manifest, db, *, force):
    target = Path(db["NAME"])
    if target.exists() and target.stat().st_size and not force:
        raise BackupError(f"目标数据库文件 {target} 已存在；确认要覆盖请加 --force。")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source / manifest["database"]["file"], partial)
    os.replace(partial, target)


def _restore_media(source, manifest, media_root, *, force):
    media_root = Path(media_root)
    if media_root.is_dir() and any(media_root.iterdir()) and not force:
        raise BackupError(f"附件目录 {media_root} 不是空的；确认要覆盖请加 --force。")
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / manifest["media"]["file"], "r:gz") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(media_root, filter="data")
            return
        # Python before 3.11.4 (Debian 12 ships 3.11.2) has no extraction filters: accept plain files inside only.
        for member in archive.getmembers():
            target = (media_root / member.name).resolve()
            if not member.isfile() or not target.is_relative_to(media_root.resolve()):
                raise BackupError(f"附件压缩包中有不安全的条目：{member.name}")
        archive.extractall(media_root)  # noqa: S202 — every member was checked above


def _manage(command, *, database_url, media_root):
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root)}
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def backup_restore(*, source, database_url, media_root, force=False, log=print):
    """Restore a backup into the database at `database_url` and into `media_root`, migrate, verify integrity.

    Return the verify_integrity output; raise BackupError when a step fails or the check does not pass.
    """
    source = Path(source)
    manifest = read_manifest(source)
    log(f"备份 {source.name}：创建于 {manifest['created_at']}，文件校验通过。")
    db = dj_database_url.parse(database_url)
    engine = manifest["database"]["engine"]
    vendor = {"django.db.backends.postgresql": "postgresql", "django.db.backends.sqlite3": "sqlite"}.get(db["ENGINE"])
    if vendor != engine:
        raise BackupError(f"这是 {engine} 数据库的备份，不能恢复到 {vendor or db['ENGINE']} 数据库。")
    if vendor == "postgresql":
        _restore_postgresql(source, manifest, db, force=force)
    else:
        _restore_sqlite(source, manifest, db, force=force)
    log(f"数据库已恢复到 {db['NAME']}。")
    _restore_media(source, manifest, media_root, force=force)
    log(f"附件已解压到 {media_root}（{manifest['media']['files']} 个文件）。")
    migrated = _manage(["migrate", "--noinput"], database_url=database_url, media_root=media_root)
    if migrated.returncode != 0:
        raise BackupError(f"数据库迁移失败：{migrated.stderr.strip()[-500:]}")
    log("数据库迁移完成。")
    verified = _manage(["verify_integrity"], database_url=database_url, media_root=media_root)
    if verified.returncode != 0:
        raise BackupError(f"恢复后的完整性核对未通过：\n{verified.stdout}{verified.stderr}")
    return verified.stdout
