"""The quarter's workbook: each unit that must report, its report (texts, frozen key figures), and the tallies."""

from decimal import Decimal, InvalidOperation

from django.utils import timezone

from shuangyong.lib.excel import Sheet, write_workbook

# (section, key, column header, money?) of the figures a report froze when it was submitted.
KEY_FIGURES = [
    ("activities", "count", "活动（项）", False),
    ("activities", "participants", "参加人次", False),
    ("activities", "soldiers", "官兵（人次）", False),
    ("activities", "reached", "受益人数", False),
    ("activities", "money", "慰问金（元）", True),
    ("activities", "goods_value", "物品折价（元）", True),
]
HEADER = [
    "单位",
    "所属乡镇",
    "单位类别",
    "状态",
    "报送截止日期",
    "首次报送时间",
    "最近报送时间",
    "是否按时",
    "工作开展情况",
    "存在的问题",
    "下季度工作计划",
    *[header for _, _, header, _ in KEY_FIGURES],
]
WIDTHS = [24, 12, 12, 12, 14, 18, 18, 12, 60, 40, 40] + [14] * len(KEY_FIGURES)
TALLY_HEADER = ["分组", "应报送", "已报送", "按时", "迟报", "未报送", "已退回", "已通过", "报送率（%）", "按时率（%）"]
UNLISTED = "不在报送名单（不计入统计）"


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _figure(snapshot, section, key, money):
    value = ((snapshot or {}).get(section) or {}).get(key)
    if value in (None, ""):
        return None
    if money:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    return value


def snapshot_of(report):
    """The figures the report stands on: those accepted, else those last submitted (none for a draft)."""
    if report is None or report.first_submitted_at is None:
        return None
    return report.accepted_figures or report.figures


def _texts_and_figures(report):
    if report is None:
        return ["", "", ""], [None] * len(KEY_FIGURES)
    snapshot = snapshot_of(report)
    return (
        [report.work_text, report.problems_text, report.plan_text],
        [_figure(snapshot, section, key, money) for section, key, _, money in KEY_FIGURES],
    )


def unit_rows(data):
    """One row per unit that must report (as on the completeness page), then the reports of units not on the list."""
    rows = []
    for row in data["rows"]:
        report = row.report
        texts, figures = _texts_and_figures(report)
        rows.append(
            [
                row.unit.name,
                row.group,
                row.kind_label,
                row.status_label,
                row.due_on,
                _local(report.first_submitted_at) if report else None,
                _local(report.submitted_at) if report else None,
                row.timing_label,
                *texts,
                *figures,
            ]
        )
    for report in data["unlisted"]:
        texts, figures = _texts_and_figures(report)
        rows.append(
            [
                report.unit.name,
                "",
                report.unit.get_kind_display(),
                report.get_status_display(),
                report.due_on,
                _local(report.first_submitted_at),
                _local(report.submitted_at),
                UNLISTED,
                *texts,
                *figures,
            ]
        )
    return rows


def tally_rows(tallies):
    return [
        [
            tally.label,
            tally.expected,
            tally.submitted,
            tally.on_time,
            tally.late,
            tally.missing,
            tally.returned,
            tally.accepted,
            tally.submitted_rate,
            tally.on_time_rate,
        ]
        for tally in tallies
    ]


def quarter_workbook(data):
    """Return the .xlsx bytes of a quarter's reports in scope (`data` is reports.completeness.completeness())."""
    label = data["period"].label
    return write_workbook(
        [
            Sheet(title=f"{label}报告", header=HEADER, rows=unit_rows(data), widths=WIDTHS),
            Sheet(
                title="按单位类别",
                header=TALLY_HEADER,
                rows=tally_rows([*data["by_kind"], data["totals"]]),
                widths=[20] + [10] * 9,
            ),
            Sheet(
                title="按乡镇",
                header=TALLY_HEADER,
                rows=tally_rows([*data["by_township"], data["totals"]]),
                widths=[20] + [10] * 9,
            ),
        ]
    )
