from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shuangyong.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "把一份备份恢复到指定数据库（PostgreSQL 用 pg_restore）和附件目录，然后迁移数据库并核对完整性。"
        "目标数据库或附件目录不是空的时拒绝执行，除非加 --force。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="备份文件夹（含 manifest.json）")
        parser.add_argument("--database-url", required=True, help="目标数据库，如 postgres://user@host:5432/name")
        parser.add_argument("--media-root", help=f"附件目录，默认为设置 MEDIA_ROOT（{settings.MEDIA_ROOT}）")
        parser.add_argument("--force", action="store_true", help="覆盖非空的数据库和附件目录")

    def handle(self, *args, source, database_url, media_root=None, force=False, **options):
        try:
            report = backup_restore(
                source=source,
                database_url=database_url,
                media_root=media_root or settings.MEDIA_ROOT,
                force=force,
                log=self.stdout.write,
            )
        except BackupError as error:
            raise CommandError(f"恢复失败：{error}") from error
        self.stdout.write(report.rstrip())
        self.stdout.write(self.style.SUCCESS("恢复完成，完整性核对通过。"))
