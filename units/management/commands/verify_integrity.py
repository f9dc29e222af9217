from django.core.management.base import BaseCommand, CommandError

from shuangyong.integrity import run_checks


class Command(BaseCommand):
    help = "核对数据完整性：发放台账与批次、活动汇总数、数据库约束、附件文件、修改历史和安全日志；有问题时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="只输出未通过的检查")

    def handle(self, *args, quiet=False, **options):
        results = run_checks()
        failed = [result for result in results if not result.ok]
        for result in results:
            if quiet and result.ok:
                continue
            mark = self.style.SUCCESS("✔") if result.ok else self.style.ERROR("✘")
            self.stdout.write(f"{mark} {result.name}：{result.detail}（{result.seconds:.1f} 秒）")
            for example in result.examples:
                self.stdout.write(f"    - {example}")
        if failed:
            raise CommandError(f"完整性核对未通过：{len(failed)} / {len(results)} 项有问题。", returncode=1)
        if not quiet:
            self.stdout.write(self.style.SUCCESS(f"完整性核对通过：{len(results)} 项检查全部正常。"))
