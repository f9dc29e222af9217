"""The activity log as an Excel workbook: the filtered activities, a total row, and what the filters were."""

from django.db.models import Prefetch
from django.utils import timezone

from shuangyong.lib import excel
from units.models import Pairing

from .constants import COUNT_FIELDS, ActivityType, Occasion

EXPORT_MAX_ROWS = 100_000
CHUNK_SIZE = 2000

TYPE_LABELS = dict(ActivityType.choices)
OCCASION_LABELS = dict(Occasion.choices)

HEADER = [
    "日期",
    "结束日期",
    "组织单位",
    "活动类型",
    "时机",
    "节日年度",
    "标题",
    "地点",
    "参加领导",
    "参加人数",
    "官兵人数",
    "受益（慰问）人数",
    "慰问对象人数",
    "慰问金额（元）",
    "物品折价（元）",
    "活动经费（元）",
    "照片数",
    "参与部队",
    "共建对子",
    *(f"{label}（{word}）" for label, word, _ in COUNT_FIELDS.values()),
    "活动内容",
]
WIDTHS = [11, 11, 20, 12, 10, 8, 30, 16, 16, 8, 8, 10, 10, 14, 14, 14, 6, 24, 30, *([8] * len(COUNT_FIELDS)), 40]
# The total row's sums start under 参加人数 and follow HEADER's order.
FIRST_SUM_COLUMN = HEADER.index("参加人数")


def activity_workbook(*, activities, totals, description, exported_by):
    """Return the .xlsx of the filtered activities (newest first) with a 合计 row equal to the log's totals row."""
    rows = (
        activities.select_related("unit")
        .prefetch_related(
            "military_units",
            Prefetch("pairings", queryset=Pairing.objects.select_related("civil_unit", "military_unit")),
        )
        .order_by("-start_date", "-pk")
    )

    def lines():
        for activity in rows.iterator(chunk_size=CHUNK_SIZE):
            yield [
                activity.start_date,
                activity.end_date,
                activity.unit.name,
                TYPE_LABELS.get(activity.type, activity.type),
                OCCASION_LABELS.get(activity.occasion, "") if activity.occasion else "",
                activity.occasion_year if activity.occasion else None,
                activity.title,
                activity.place,
                activity.leaders,
                activity.participants,
                activity.soldiers,
                activity.reached,
                activity.recipient_count,
                activity.money,
                activity.goods_value,
                activity.cost,
                activity.photo_count,
                "、".join(unit.name for unit in activity.military_units.all()),
                "、".join(str(pairing) for pairing in activity.pairings.all()),
                *(getattr(activity, name) for name in COUNT_FIELDS),
                activity.description,
            ]
        yield total_row(totals)

    summary = [
        ["筛选条件", description],
        ["活动数", totals["count"]],
        ["慰问金额（元）", totals["money"]],
        ["物品折价（元）", totals["goods_value"]],
        ["金额与物品合计（元）", totals["total_value"]],
        ["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")],
        ["导出人", exported_by],
    ]
    return excel.write_workbook(
        [
            excel.Sheet(title="双拥活动", header=HEADER, rows=lines(), widths=WIDTHS),
            excel.Sheet(title="说明", rows=summary, widths=[22, 60]),
        ]
    )


def total_row(totals):
    """The 合计 row under the activities: the same figures as the log's totals row."""
    sums = [
        totals["participants"],
        totals["soldiers"],
        totals["reached"],
        totals["recipients"],
        totals["money"],
        totals["goods_value"],
        totals["cost"],
        totals["photos"],
        "",
        "",
        *(totals["counts"][name] for name in COUNT_FIELDS),
    ]
    head = ["合计", *([""] * (FIRST_SUM_COLUMN - 1))]
    head[HEADER.index("标题")] = f"{totals['count']}项活动"
    return [*head, *sums, ""]
