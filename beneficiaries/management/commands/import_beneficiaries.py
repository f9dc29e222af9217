from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from beneficiaries.importers import BeneficiaryImport, Scope, error_line, region_by_code, summary
from beneficiaries.models import EDITORS
from units import permissions


class Command(BaseCommand):
    help = "从导入模板格式的 .xlsx 文件导入优抚对象：逐行检查，全部无误才在一个事务中导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="填好的导入模板（.xlsx）")
        parser.add_argument("--unit", required=True, help="这些行所属乡镇（街道）或县（区）的区划代码")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不保存任何数据")
        parser.add_argument("--user", help="记为登记人的用户名；须能管理该单位的优抚对象")

    def handle(self, *args, file, unit, dry_run, user, **options):
        try:
            region = region_by_code(unit)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        account = self.account(user, region) if user else None
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件“{file}”。")
        plan = BeneficiaryImport(scope=Scope.of_unit(region, user=account))
        try:
            with path.open("rb") as handle:
                rows = plan.read(File(handle, name=path.name))
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.stdout.write(f"正在检查 {len(rows)} 行（{region.name}）……")
        created = plan.run(rows, created_by=account, dry_run=dry_run)
        if created is None:
            errors = plan.sorted_errors()
            for error in errors:
                self.stdout.write(error_line(error))
            bad_rows = len({error["row"] for error in errors})
            raise CommandError(f"{bad_rows} 行有误（共 {len(errors)} 处问题），没有导入任何数据。", returncode=1)
        counts = summary(plan.by_category())
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"检查通过：共 {created} 行（{counts}）。--dry-run：没有保存任何数据。")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"已导入 {created} 名优抚对象（{counts}），每人登记了一条“新增”异动。")
            )

    def account(self, username, region):
        account = get_user_model().objects.filter(username=username, is_active=True).first()
        if account is None:
            raise CommandError(f"找不到在用的用户“{username}”。")
        if not permissions.in_scope(account, region, roles=EDITORS):
            raise CommandError(f"用户“{username}”不能管理{region.name}的优抚对象。")
        return account
