"""Demo quarterly reports of 示例县: the list of units that must report, a county deadline, and the reports.

Every ended quarter since 2025 has its reports, made through the workflow's services (drafted, submitted,
returned, resubmitted, accepted, reopened) and then dated: each step's event, the report's timestamps and its
history rows get the time the step would have happened, so that the demo reads like a year of work without
freezing the clock. The latest ended quarter is still in flight: some reports accepted, some submitted on time
or late and awaiting review, one returned with a comment, drafts, and units that have not filed (溧东镇 among
them, so that its liaison can draft it). A step that would fall after `today` is left out, and a report already
there is never touched again, so running the demo again adds only what has come due since.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services
from .completeness import due_date, latest_ended_quarter, quarter_period
from .models import QuarterDeadline, QuarterlyReport, ReportEvent, ReportingUnit
from .settings_services import deadline_set

FIRST_QUARTER = (2025, 1)
LIST_START = datetime.date(2025, 1, 1)
TOWNSHIPS = ["城关街道", "新华街道", "溧东镇", "南渡镇", "上兴镇", "竹箦镇", "别桥镇", "雅灰乡", "社渚乡", "天目湖乡"]
DEPARTMENTS = ["县规划局", "县教育局", "县民政局", "县退役军人事务局", "县人民医院", "县总工会"]
# The county gives more time for the 2025 fourth quarter, over the New Year holidays.
COUNTY_DEADLINE = (2025, 4, datetime.date(2026, 1, 15))
FILERS = {"溧东镇": "lidong", "县规划局": "guihua"}

# Where each unit's report of the latest ended quarter stands.
LATEST = {
    "城关街道": "accepted",
    "新华街道": "accepted",
    "南渡镇": "accepted",
    "县民政局": "accepted",
    "上兴镇": "on_time",
    "竹箦镇": "on_time",
    "县教育局": "on_time",
    "县退役军人事务局": "on_time",
    "别桥镇": "late",
    "县人民医院": "late",
    "雅灰乡": "returned",
    "县规划局": "draft",
    "天目湖乡": "draft",
    "溧东镇": "missing",
    "社渚乡": "missing",
    "县总工会": "missing",
}
# Earlier quarters a unit never filed, and one accepted report the office reopened.
NEVER_FILED = {("社渚乡", 2025, 2), ("县总工会", 2025, 1)}
REOPENED = ("天目湖乡", 2026, 2, "请补充上半年拥军优属资金的使用明细后重新报送。")

PROBLEMS = [
    "部分村（社区）双拥活动记录不够及时，照片等资料收集不全。",
    "双拥工作经费较为紧张，慰问标准与群众期望仍有差距。",
    "军民共建活动形式较为单一，与驻地部队的常态化联系有待加强。",
    "优抚对象信息动态更新不够及时，个别人员异动未能及时报送。",
]
PLANS = {
    1: "一是做好征兵宣传和体检组织工作；二是筹备“八一”走访慰问；三是开展国防教育进校园活动。",
    2: "一是开展“八一”建军节走访慰问，落实优抚对象慰问金发放；二是组织军民共建联谊活动；三是配合做好新兵役前教育。",
    3: "一是做好新兵入伍欢送和军属走访；二是开展国家公祭日国防教育宣传；三是谋划元旦春节走访慰问。",
    4: "一是开展元旦春节走访慰问，确保慰问金按时发放到位；二是总结全年双拥工作，制定新年度计划；三是组织春节军民联欢。",
}
RETURN_COMMENTS = [
    "请补充“八一”走访慰问的对象人数和慰问金额，并与活动记录核对一致。",
    "存在的问题写得过于笼统，请结合本单位实际具体说明。",
    "下季度工作计划请列明时间节点和责任人。",
]
FALLBACK_WORK = "本季度按照县双拥工作领导小组的部署，扎实开展拥军优属、拥政爱民各项工作。"
FIXED_NOTE = "（已按双拥办意见修改补充。）"


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _days(n):
    return datetime.timedelta(days=n)


class DemoReports:
    def __init__(self, units, *, today):
        self.units = units
        self.today = today
        now = timezone.now()
        end_of_today = _at(today, 23, 59)
        self.cutoff = min(now, end_of_today) if today == timezone.localdate() else end_of_today
        names = ["zhuren", "ganshi", *FILERS.values()]
        self.users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        self.created = 0

    def run(self):
        reporting = [name for name in TOWNSHIPS + DEPARTMENTS if name in self.units]
        self.put_on_list(reporting)
        self.county_deadline()
        latest = latest_ended_quarter(self.today)
        for year, quarter in self.quarters(latest):
            for index, name in enumerate(reporting):
                self.report(index, name, year, quarter, latest=(year, quarter) == latest)
        return self.created

    def quarters(self, latest):
        year, quarter = FIRST_QUARTER
        while (year, quarter) <= latest:
            yield year, quarter
            year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)

    def put_on_list(self, names):
        if LIST_START > self.today:
            return
        listed = set(ReportingUnit.objects.values_list("unit_id", flat=True))
        for name in names:
            unit = self.units[name]
            if unit.pk not in listed:
                ReportingUnit.objects.create(unit=unit, start_on=LIST_START, set_by=self.users.get("zhuren"))

    def county_deadline(self):
        year, quarter, due_on = COUNTY_DEADLINE
        county = self.units["示例县"]
        # Set the day after the quarter ended.
        if quarter_period(year, quarter).end >= self.today:
            return
        if not QuarterDeadline.objects.filter(unit=county, year=year, quarter=quarter).exists():
            deadline_set(unit=county, year=year, quarter=quarter, due_on=due_on, set_by=self.users["zhuren"])

    # One report

    def plan(self, index, name, year, quarter, latest):
        """What happens to the unit's report: [(step, when, comment)] in order, or [] when it never filed."""
        if (name, year, quarter) in NEVER_FILED:
            return []
        state = LATEST[name] if latest else self.earlier_state(index, year, quarter)
        if (name, year, quarter) == REOPENED[:3]:
            state = "accepted"
        if state == "missing":
            return []
        end = quarter_period(year, quarter).end
        due = due_date(self.units[name], year, quarter)
        drafted = _at(end + _days(1 + index % 4), 9, index)
        steps = [("create", drafted, "")]
        if state == "draft":
            return steps
        if state in ("late", "late_accepted"):
            sent = _at(due + _days(2 + index % 6), 15, index)
        else:
            sent = _at(due - _days(1 + index % 5), 10, index)
        steps.append(("submit", sent, ""))
        if state in ("on_time", "late"):
            return steps
        comment = RETURN_COMMENTS[(index + quarter) % len(RETURN_COMMENTS)]
        if state == "returned":
            return [*steps, ("return", sent + _days(1) + datetime.timedelta(hours=1), comment)]
        if state == "fixed":
            returned = sent + _days(1) + datetime.timedelta(hours=1)
            resent = returned + _days(2)
            steps += [("return", returned, comment), ("resubmit", resent, ""), ("accept", resent + _days(1), "")]
            return steps
        steps.append(("accept", sent + _days(2 + index % 3) + datetime.timedelta(hours=6), ""))
        if (name, year, quarter) == REOPENED[:3]:
            steps.append(("reopen", sent + _days(20), REOPENED[3]))
        return steps

    def earlier_state(self, index, year, quarter):
        """A settled quarter: accepted, now and then late or after a return."""
        turn = index + 4 * (year - FIRST_QUARTER[0]) + quarter
        if turn % 7 == 3:
            return "late_accepted"
        if turn % 9 == 4:
            return "fixed"
        return "accepted"

    def report(self, index, name, year, quarter, *, latest):
        unit = self.units[name]
        if QuarterlyReport.objects.filter(unit=unit, year=year, quarter=quarter).exists():
            return
        steps = [step for step in self.plan(index, name, year, quarter, latest) if step[1] <= self.cutoff]
        if not steps:
            return
        filer = self.users[FILERS.get(name, "ganshi")]
        office = self.users["zhuren"]
        report = None
        for step, when, comment in steps:
            mark = timezone.now()
            if step == "create":
                try:
                    report = services.report_create(unit=unit, year=year, quarter=quarter, created_by=filer)
                except ValidationError:
                    return  # a quarter the workflow no longer takes (the demo run long after): left out
                self.created += 1
                services.report_update(
                    report=report,
                    updated_by=filer,
                    work_text=report.work_text.strip() or FALLBACK_WORK,
                    problems_text="" if len(steps) == 1 and index % 2 else PROBLEMS[(index + quarter) % len(PROBLEMS)],
                    plan_text="" if len(steps) == 1 else PLANS[quarter],
                )
                fields = {"created_at": when}
            elif step in ("submit", "resubmit"):
                if step == "resubmit":
                    services.report_update(
                        report=report,
                        updated_by=filer,
                        work_text=report.work_text,
                        problems_text=f"{report.problems_text}{FIXED_NOTE}",
                        plan_text=report.plan_text,
                    )
                services.report_submit(report=report, submitted_by=filer)
                fields = {"submitted_at": when, **({"first_submitted_at": when} if step == "submit" else {})}
            elif step == "return":
                services.report_return(report=report, comment=comment, returned_by=office)
                fields = {}
            elif step == "accept":
                services.report_accept(report=report, accepted_by=office)
                fields = {"accepted_at": when}
            else:
                services.report_reopen(report=report, reason=comment, reopened_by=office)
                fields = {}
            QuarterlyReport.objects.filter(pk=report.pk).update(updated_at=when, **fields)
            ReportEvent.objects.filter(report=report, at__gte=mark).update(at=when)
            QuarterlyReport.history.filter(id=report.pk, history_date__gte=mark).update(history_date=when)


def build_reports(units, *, today):
    """Add the demo's reporting list, a county deadline and the quarterly reports; return how many were drafted."""
    return DemoReports(units, today=today).run()
