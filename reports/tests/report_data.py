"""Shared helpers of the quarterly report tests: a frozen today, activities of a quarter, a report in each state."""

import datetime
from zoneinfo import ZoneInfo

import time_machine

from activities.constants import ActivityType, Occasion
from activities.services import activity_create
from reports import services

# Today in these tests: the third quarter of 2026 has ended (its default due date was 2026-10-10),
# the fourth has not.
TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TEXTS = {
    "work_text": "本季度我镇走访慰问驻地部队官兵。",
    "problems_text": "宣传形式较为单一。",
    "plan_text": "下季度做好元旦春节走访慰问准备。",
}


def frozen(moment=TODAY):
    return time_machine.travel(moment, tick=False)


def visit(unit, by, day=datetime.date(2026, 7, 28), *, title="八一走访慰问驻地部队", money="3000", people=30):
    """A 八一 visit with a group of 驻地官兵 given money: counts, people and money for the figures."""
    return activity_create(
        unit=unit,
        created_by=by,
        type=ActivityType.VISIT,
        occasion=Occasion.ARMY_DAY,
        title=title,
        start_date=day,
        participants=12,
        soldiers=people,
        groups=[{"description": "驻地官兵", "people": people, "money": money}],
    )


def meeting(unit, by, day=datetime.date(2026, 8, 15)):
    return activity_create(
        unit=unit,
        created_by=by,
        type=ActivityType.MEETING,
        title="双拥工作领导小组会议",
        start_date=day,
        participants=9,
    )


def draft(unit, by, *, year=2026, quarter=3, texts=True):
    report = services.report_create(unit=unit, year=year, quarter=quarter, created_by=by)
    if texts:
        services.report_update(report=report, updated_by=by, **TEXTS)
    return report


def submitted(unit, by, **kwargs):
    report = draft(unit, by, **kwargs)
    return services.report_submit(report=report, submitted_by=by)


def accepted(unit, by, office, **kwargs):
    report = submitted(unit, by, **kwargs)
    return services.report_accept(report=report, accepted_by=office)
