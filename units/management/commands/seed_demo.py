from django.core.management.base import BaseCommand

from units.demo import build_demo


class Command(BaseCommand):
    help = "创建或补齐演示数据（示例县）；重复运行不会产生重复数据。"

    def handle(self, *args, **options):
        units = build_demo()
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪：{len(units)} 个单位。"))
