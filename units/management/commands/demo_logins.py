from django.core.management.base import BaseCommand

from units.demo import demo_logins


class Command(BaseCommand):
    help = "列出演示账号。"

    def handle(self, *args, **options):
        self.stdout.write("演示账号（用户名 / 密码 / 身份）：")
        for username, password, note in demo_logins():
            self.stdout.write(f"  {username:<10} {password}  {note}")
