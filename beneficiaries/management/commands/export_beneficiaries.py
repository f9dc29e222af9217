from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from beneficiaries import exporters
from beneficiaries.importers import region_by_code
from beneficiaries.models import Beneficiary
from beneficiaries.privacy import can_reveal
from units import permissions


class Command(BaseCommand):
    help = "把一个乡镇（街道）或县（区）的优抚对象导出为 .xlsx；身份证号和银行账号默认脱敏。"

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="乡镇（街道）或县（区）的区划代码")
        parser.add_argument("--out", required=True, help="写入的 .xlsx 文件")
        parser.add_argument("--unmasked", action="store_true", help="不脱敏；须同时用 --user 指定有查看权限的用户")
        parser.add_argument("--user", help="导出人的用户名；不脱敏导出记入其个人信息访问记录")

    def handle(self, *args, unit, out, unmasked, user, **options):
        try:
            region = region_by_code(unit)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        account = self.account(user, region) if user else None
        if unmasked and (account is None or not can_reveal(account)):
            raise CommandError("不脱敏导出须用 --user 指定拥有“可查看完整身份证号和银行账号”权限的用户。")
        target = Path(out)
        if target.suffix.lower() != ".xlsx":
            raise CommandError("--out 须是 .xlsx 文件。")
        if not target.parent.is_dir():
            raise CommandError(f"目录“{target.parent}”不存在。")
        on = timezone.localdate()
        people = Beneficiary.objects.filter(township__path__startswith=region.path)
        count = people.count()
        description = f"{region.name}全部"
        if unmasked:
            exporters.export_log(
                user=account, unit=exporters.user_unit(account), description=f"命令行导出 {description}", count=count
            )
        content = exporters.beneficiary_workbook(
            people=people,
            on=on,
            unmasked=unmasked,
            description=description,
            exported_by=exporters.display_name(account) if account else "命令行",
        )
        target.write_bytes(content)
        masked = "未脱敏" if unmasked else "已脱敏"
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 人到 {target}（身份证号、银行账号{masked}）。"))

    def account(self, username, region):
        account = get_user_model().objects.filter(username=username, is_active=True).first()
        if account is None:
            raise CommandError(f"找不到在用的用户“{username}”。")
        if not permissions.in_scope(account, region):
            raise CommandError(f"用户“{username}”无权查看{region.name}的优抚对象。")
        return account
