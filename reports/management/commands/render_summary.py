from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from activities.constants import Occasion
from beneficiaries.importers import region_by_code
from reports import summary as writer
from reports.models import Summary
from reports.summary_render import render_summary_pdf
from reports.summary_services import kind_and_occasion
from reports.summary_views import SCOPE_KINDS
from units.models import Unit

OCCASION_BY_WORD = {label: value for value, label in Occasion.choices if value}


class Command(BaseCommand):
    help = (
        "把一个单位（区划代码或单位名称）某年度的工作总结写成 PDF：年度、上半年（--half 1）或节日（--occasion 八一）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="县（区）、乡镇（街道）的区划代码，或单位名称")
        parser.add_argument("--year", required=True, type=int, help="年度，如 2025")
        parser.add_argument("--half", type=int, choices=[1], help="上半年总结")
        parser.add_argument("--occasion", help="节日走访慰问情况，如 八一、春节（或 army_day）")
        parser.add_argument("--out", required=True, help="写入的 .pdf 文件")

    def handle(self, *args, unit, year, half, occasion, out, **options):
        if half and occasion:
            raise CommandError("--half 和 --occasion 只能选一个。")
        shape = "half" if half else "annual"
        if occasion:
            shape = OCCASION_BY_WORD.get(occasion.strip().strip('“”"'), occasion.strip())
        period = writer.shape_period(shape=shape, year=year)
        if period is None:
            raise CommandError(f"没有“{occasion}”这种节日总结；可用：{'、'.join(OCCASION_BY_WORD)}。")
        target = Path(out)
        if target.suffix.lower() != ".pdf":
            raise CommandError("--out 须是 .pdf 文件。")
        if not target.parent.is_dir():
            raise CommandError(f"目录“{target.parent}”不存在。")
        found = self.unit(unit)
        kind, occasion_value = kind_and_occasion(shape)
        summary = Summary.objects.filter(unit=found, kind=kind, year=year, occasion=occasion_value).first()
        doc = writer.build_document(unit=found, period=period, summary=summary)
        target.write_bytes(render_summary_pdf(doc))
        draft = "（草稿）" if doc.is_draft else ""
        self.stdout.write(self.style.SUCCESS(f"已写入《{doc.title}》{draft}到 {target}。"))

    def unit(self, text):
        text = text.strip()
        try:
            return region_by_code(text)
        except ValidationError:
            pass
        units = list(Unit.objects.filter(name=text, is_active=True, kind__in=SCOPE_KINDS)[:2])
        if len(units) != 1:
            raise CommandError(f"“{text}”不对应唯一的在用单位（区划代码或单位名称）。")
        return units[0]
