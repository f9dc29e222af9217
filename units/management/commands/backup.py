from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shuangyong.backups import BackupError, backup_create


def _size(value):
    return f"{value / 1024 / 1024:.1f} MB" if value >= 1024 * 1024 else f"{value / 1024:.1f} KB"


class Command(BaseCommand):
    help = "备份数据库和附件：在备份目录下写入一个按日期时间命名的文件夹（数据库导出、附件压缩包、清单）。"

    def add_arguments(self, parser):
        parser.add_argument("--dest", help=f"备份目录，默认为设置 BACKUP_DIR（{settings.BACKUP_DIR}）")
        parser.add_argument("--keep", type=int, help="只保留最近 N 份备份，删除更早的")

    def handle(self, *args, dest=None, keep=None, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep 至少为 1。")
        try:
            folder, manifest, pruned = backup_create(dest=dest or settings.BACKUP_DIR, keep=keep)
        except BackupError as error:
            raise CommandError(f"备份失败：{error}") from error
        files = manifest["files"]
        database, media = files[manifest["database"]["file"]], files[manifest["media"]["file"]]
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{folder}\n"
                f"  数据库（{manifest['database']['engine']}）{_size(database['size'])}，"
                f"附件 {manifest['media']['files']} 个文件（压缩后 {_size(media['size'])}），"
                f"用时 {manifest['seconds']} 秒。"
            )
        )
        for path in pruned:
            self.stdout.write(f"  已删除较早的备份：{path.name}")
