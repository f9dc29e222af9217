from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from shuangyong.lib.jobs import jobs_files_prune, jobs_recover


class Command(BaseCommand):
    help = "把工作进程中断的后台任务重新排队，并删除超过保留期的任务文件（上传的文件与导出结果）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=settings.JOB_FILES_DAYS, help="任务文件保留天数（默认取 JOB_FILES_DAYS）"
        )

    def handle(self, *args, days, **options):
        queued, failed = jobs_recover()
        for job in queued:
            self.stdout.write(f"任务 #{job.pk}（{job.kind}）的工作进程已停止，已重新排队。")
        for job in failed:
            self.stdout.write(f"任务 #{job.pk}（{job.kind}）多次中断，已标记为失败。")
        removed = jobs_files_prune(finished_before=timezone.now() - timedelta(days=days))
        self.stdout.write(
            f"重新排队 {len(queued)} 个任务，标记失败 {len(failed)} 个；删除超过 {days} 天的任务文件 {removed} 个。"
        )
