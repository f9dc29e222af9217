"""Every figure a report states, for a unit's subtree and a period, assembled from the apps' selectors.

Quarterly reports, dashboards and the year-end summaries read their numbers from `figures()`; the totals
themselves are computed by the apps' selectors (activities, payments, leading groups, pairings, plans).
The result is JSON-safe, so a report can freeze it: counts are ints, money is a string with two decimals.
A section with nothing to state is an empty dict, so that writers leave it out.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from activities.constants import COUNT_FIELDS, EARLY_OCCASIONS, ActivityType, Occasion
from activities.models import Activity, RecipientGroup
from activities.selectors import (
    NOTHING_GIVEN,
    activities_by_month_and_type,
    activity_totals,
    expected_percent,
    given_by_occasion,
    money_by_occasion,
    plan_done,
    plan_progress,
)
from beneficiaries.constants import Basis, PaymentKind
from beneficiaries.selectors import payment_rates, payment_summary, unit_payments
from shuangyong.lib.money import ZERO, format_yuan
from units.constants import UnitKind
from units.models import UnitPlan
from units.selectors import group_figures, pairing_figures

QUARTER_WORDS = {1: "一", 2: "二", 3: "三", 4: "四"}
HALF_WORDS = {1: "上", 2: "下"}
OCCASION_LABELS = dict(Occasion.choices)


@dataclass(frozen=True)
class Period:
    """A span a report covers: a quarter, a half year, a year, or an occasion of a year."""

    kind: str
    year: int
    number: int | None
    occasion: str
    start: datetime.date
    end: datetime.date
    label: str

    @classmethod
    def quarter(cls, year, quarter):
        if quarter not in QUARTER_WORDS:
            raise ValueError(f"季度应为 1–4：{quarter}")
        first_month = 3 * quarter - 2
        start = datetime.date(year, first_month, 1)
        end = _month_end(year, first_month + 2)
        return cls("quarter", year, quarter, "", start, end, f"{year}年第{QUARTER_WORDS[quarter]}季度")

    @classmethod
    def half(cls, year, half):
        if half not in HALF_WORDS:
            raise ValueError(f"半年应为 1 或 2：{half}")
        start = datetime.date(year, 1 if half == 1 else 7, 1)
        end = datetime.date(year, 6, 30) if half == 1 else datetime.date(year, 12, 31)
        return cls("half", year, half, "", start, end, f"{year}年{HALF_WORDS[half]}半年")

    @classmethod
    def year_of(cls, year):
        return cls("year", year, None, "", datetime.date(year, 1, 1), datetime.date(year, 12, 31), f"{year}年")

    @classmethod
    def occasion_of(cls, year, occasion):
        if not occasion or occasion not in OCCASION_LABELS:
            raise ValueError(f"没有“{occasion}”这个时机")
        # Visits for 元旦 and 春节 start in the December before (activities.services.occasion_year_of).
        start = datetime.date(year - 1, 12, 1) if occasion in EARLY_OCCASIONS else datetime.date(year, 1, 1)
        return cls(
            "occasion", year, None, occasion, start, datetime.date(year, 12, 31), f"{year}年{OCCASION_LABELS[occasion]}"
        )

    def previous(self):
        """The same period a year earlier."""
        if self.kind == "quarter":
            return Period.quarter(self.year - 1, self.number)
        if self.kind == "half":
            return Period.half(self.year - 1, self.number)
        if self.kind == "occasion":
            return Period.occasion_of(self.year - 1, self.occasion)
        return Period.year_of(self.year - 1)

    def activities(self, activities):
        """Narrow an Activity queryset to the period: an occasion by occasion and occasion year, else by date."""
        if self.kind == "occasion":
            return activities.filter(occasion=self.occasion, occasion_year=self.year)
        return activities.filter(start_date__gte=self.start, start_date__lte=self.end)

    def as_dict(self):
        return {
            "kind": self.kind,
            "year": self.year,
            "number": self.number,
            "occasion": self.occasion,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
        }


# The agreed names: Period.year(y) and Period.occasion(y, o). A dataclass field may not share a classmethod's name,
# so the constructors are attached after the class is built.
Period.year = Period.year_of  # type: ignore[assignment]
Period.occasion = Period.occasion_of  # type: ignore[assignment]


def _month_end(year, month):
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def money(value):
    """Money as the snapshot keeps it: a string with two decimals ("1500.00"), exact."""
    return f"{value:.2f}"


def subtree_activities(unit):
    """The activities of a unit and every unit below it (a township's include its villages')."""
    return Activity.objects.filter(unit__path__startswith=unit.path)


# The sections, in the order reports state them.
SECTIONS = {
    "activities": "双拥活动",
    "leading_group": "组织领导",
    "visits": "走访慰问",
    "pairings": "军民共建",
    "conscription": "征兵工作",
    "placement": "安置工作",
    "payments": "优抚发放",
    "plans": "年度计划",
}
CONSCRIPTION_FIELDS = {"applied": "enlist_applied", "passed": "enlist_passed", "final": "enlist_final"}
PLACEMENT_FIELDS = {"officers": "placed_officers", "soldiers": "placed_soldiers", "spouses": "placed_spouses"}
# Units whose subtree holds townships or villages, and so registry people and payments.
PAYMENT_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.VILLAGE]
EVERYDAY_LABEL = "日常慰问"


def figures(*, unit, period):
    """Return every figure a report states for the unit's subtree and the period, JSON-safe.

    {"unit": {"id", "name", "kind"}, "period": Period.as_dict(), and one dict per section of SECTIONS}.
    A section with nothing to state is {}. Money is a string with two decimals ("1500.00"), exact.
    """
    activities = period.activities(subtree_activities(unit))
    totals = activity_totals(activities=activities)
    return {
        "unit": {"id": unit.pk, "name": unit.name, "kind": unit.kind},
        "period": period.as_dict(),
        "activities": activities_section(activities, totals, period),
        "leading_group": leading_group_section(unit, period, activities),
        "visits": visits_section(activities),
        "pairings": pairings_section(unit, period, activities),
        "conscription": _counts_section(totals, CONSCRIPTION_FIELDS),
        "placement": _counts_section(totals, PLACEMENT_FIELDS),
        "payments": payments_section(unit, period),
        "plans": plans_section(unit, period),
    }


def activities_section(activities, totals, period):
    """count, participants (人次), soldiers (官兵), reached, recipients, money, goods_value, total_value, cost,
    by_type [{type, label, count}] in ActivityType order, counts {COUNT_FIELDS field: n} (all fields)."""
    if not totals["count"]:
        return {}
    by_type = {}
    # activities_by_month_and_type works per calendar year; an occasion period may begin in the December before.
    for year in range(period.start.year, period.end.year + 1):
        for kind, n in activities_by_month_and_type(activities=activities, year=year)["by_type"].items():
            by_type[kind] = by_type.get(kind, 0) + n
    return {
        "count": totals["count"],
        "participants": totals["participants"],
        "soldiers": totals["soldiers"],
        "reached": totals["reached"],
        "recipients": totals["recipients"],
        "money": money(totals["money"]),
        "goods_value": money(totals["goods_value"]),
        "total_value": money(totals["total_value"]),
        "cost": money(totals["cost"]),
        "by_type": [
            {"type": kind, "label": label, "count": by_type[kind]}
            for kind, label in ActivityType.choices
            if kind in by_type
        ],
        "counts": dict(totals["counts"]),
    }


def _counts_section(totals, fields):
    section = {key: totals["counts"][field] for key, field in fields.items()}
    return section if any(section.values()) else {}


GROUP_NAMES_SHOWN = 5


def visit_activities(activities):
    """The activities that visited or gave something: 走访慰问, or any with money, goods or people reached."""
    return activities.filter(
        Q(type=ActivityType.VISIT) | Q(money__gt=0) | Q(goods_value__gt=0) | Q(recipient_count__gt=0)
    )


def _group_names(activities):
    """The first GROUP_NAMES_SHOWN descriptions of the recipient groups per occasion, for the text."""
    names = {}
    groups = RecipientGroup.objects.filter(activity__in=activities.values("pk")).order_by()
    for occasion, description in groups.values_list("activity__occasion", "description").distinct():
        shown = names.setdefault(occasion, [])
        if len(shown) < GROUP_NAMES_SHOWN and description not in shown:
            shown.append(description)
    return names


def visits_section(activities):
    """{"occasions": [{"occasion", "label", "activities", "money" (合计), "goods_value", "total_value", and per
    recipient: gifts_count, gifts_to_troops, gifts_money, gifts_goods, recipients_people (人次),
    recipients_distinct (人), recipients_money, recipients_goods, groups_count, groups_people, groups_money,
    groups_goods, group_names, people (registry + groups)}] in Occasion order, everyday visits last;
    "activities", "people", "money", "goods_value", "total_value" over them all}."""
    visits = visit_activities(activities)
    totals = activity_totals(activities=visits)
    if not totals["count"]:
        return {}
    given = given_by_occasion(activities=visits)
    names = _group_names(visits)
    rows = []
    for line in money_by_occasion(activities=visits):
        parts = {**NOTHING_GIVEN, **given.get(line["occasion"], {}), "group_names": names.get(line["occasion"], [])}
        parts = {key: money(value) if isinstance(value, Decimal) else value for key, value in parts.items()}
        rows.append(
            {
                "occasion": line["occasion"],
                "label": line["label"] if line["occasion"] else EVERYDAY_LABEL,
                "activities": line["count"],
                "money": money(line["money"]),
                "goods_value": money(line["goods_value"]),
                "total_value": money(line["total_value"]),
                **parts,
                "people": parts["recipients_people"] + parts["groups_people"],
            }
        )
    return {
        "occasions": rows,
        "activities": totals["count"],
        "people": totals["recipients"],
        "money": money(totals["money"]),
        "goods_value": money(totals["goods_value"]),
        "total_value": money(totals["total_value"]),
    }


def leading_group_section(unit, period, activities):
    """{"name", "members" (on the period's end), "roles": [{"role", "label", "count", "titles"}], "joined", "left",
    "subunit_groups", "meetings" (activities of type 领导小组会议 in the subtree)}; none for an occasion."""
    if period.kind == "occasion":
        return {}
    group = group_figures(unit=unit, start=period.start, end=period.end)
    meetings = activity_totals(activities=activities.filter(type=ActivityType.MEETING))["count"]
    section = {**group, "meetings": meetings}
    if not (group["members"] or group["joined"] or group["left"] or group["subunit_groups"] or meetings):
        return {}
    return section


def pairings_section(unit, period, activities):
    """{"active" (in force at the period's end), "partners", "signed", "ended", "agreements" (in the period),
    "joint_activities", "joint_soldiers", "joint_participants" (activities of the period with a pairing)}."""
    pairings = pairing_figures(unit=unit, start=period.start, end=period.end)
    if period.kind == "occasion":
        # An occasion's activities may span more than a year: only the pairings in force and what they did.
        pairings.update(signed=0, ended=0, agreements=0)
    joint = activity_totals(
        activities=activities.filter(pk__in=Activity.pairings.through.objects.values("activity_id"))
    )
    section = {
        **pairings,
        "joint_activities": joint["count"],
        "joint_participants": joint["participants"],
        "joint_soldiers": joint["soldiers"],
    }
    if not (pairings["active"] or pairings["signed"] or pairings["ended"] or pairings["agreements"] or joint["count"]):
        return {}
    return section


def payments_section(unit, period):
    """{"categories": [{"category", "label", "kind", "kind_label", "people", "count", "amount", "rates":
    [{"rate", "basis"}], "backpay_people", "backpay_amount", "total"}], "one_offs": [{"kind", "label", "people",
    "count", "amount"}], "regular_amount", "backpay_amount", "award_amount", "one_off_amount", "people", "amount"}.

    Paid, not returned ledger rows of the townships in the subtree whose month lies in the period (an annual
    standard counts in the month it covers). None for an occasion, or for a unit that holds no townships.
    """
    if period.kind == "occasion" or unit.kind not in PAYMENT_KINDS:
        return {}
    payments = unit_payments(unit=unit, start=period.start, end=period.end)
    summary = payment_summary(payments=payments)
    if not summary["count"]:
        return {}
    rates = payment_rates(payments=payments)
    award = next((row for row in summary["one_offs"] if row["kind"] == PaymentKind.AWARD), None)
    return {
        "categories": [
            {
                "category": row["category"],
                "label": row["category_label"],
                "kind": row["kind"],
                "kind_label": row["kind_label"],
                "people": row["people"],
                "count": row["count"],
                "amount": money(row["amount"]),
                "rates": [
                    {"rate": money(rate), "basis": basis}
                    for rate, basis in rates.get((row["category"], row["kind"]), [])
                ],
                "backpay_people": row["backpay_people"],
                "backpay_amount": money(row["backpay_amount"]),
                "total": money(row["total"]),
            }
            for row in summary["regular"]
        ],
        "one_offs": [
            {
                "kind": row["kind"],
                "label": row["label"],
                "people": row["people"],
                "count": row["count"],
                "amount": money(row["amount"]),
            }
            for row in summary["one_offs"]
        ],
        "regular_amount": money(summary["regular_amount"]),
        "backpay_amount": money(summary["backpay_amount"]),
        "award_amount": money(award["amount"] if award else ZERO),
        "one_off_amount": money(summary["one_off_amount"]),
        "people": summary["people"],
        "amount": money(summary["amount"]),
    }


def plans_section(unit, period):
    """The unit's plan of the period's year against what its subtree did up to the period's end:
    {"rows": [{"metric", "label", "target", "done", "percent", "reached"}], "completion", "expected", "reached"}."""
    if period.kind == "occasion":
        return {}
    plan = UnitPlan.objects.filter(unit=unit, year=period.year).prefetch_related("targets").first()
    if plan is None:
        return {}
    metrics = [target.metric for target in plan.targets.all()]
    if not metrics:
        return {}
    done = plan_done(
        activities=subtree_activities(unit).filter(start_date__lte=period.end),
        units=[unit],
        year=period.year,
        metrics=metrics,
    )[unit.pk]
    expected = expected_percent(year=period.year, today=period.end)
    progress = plan_progress(plan=plan, done=done, expected=expected)
    return {
        "rows": [
            {key: row[key] for key in ("metric", "label", "target", "done", "percent", "reached")}
            for row in progress["rows"]
        ],
        "completion": progress["completion"],
        "expected": expected,
        "reached": progress["reached"],
    }


# Display

BASIS_LABELS = dict(Basis.choices)
MISSING = "—"


def _yuan(text):
    return format_yuan(Decimal(text))


def _has(text):
    return Decimal(text) != 0


def _rates_text(rates):
    """ "每月 2,500.00 元"; several rates of one basis as a range: "每月 900.00—8,880.00 元"."""
    by_basis = {}
    for row in rates:
        by_basis.setdefault(row["basis"], []).append(Decimal(row["rate"]))
    parts = []
    for basis, amounts in by_basis.items():
        low, high = format_yuan(min(amounts), unit=""), format_yuan(max(amounts), unit="")
        parts.append(f"{BASIS_LABELS.get(basis, '')} {low if low == high else f'{low}—{high}'} 元".strip())
    return "；".join(parts)


def figure_lines(figures):
    """The display lines of the figures: [(section label, label, value text)] in SECTIONS order, zero lines left out.

    Amounts read "1,500.00 元", counts "6 期".
    """
    lines = []

    def add(key, label, value):
        lines.append((SECTIONS[key], label, value))

    section = figures.get("activities") or {}
    if section:
        add("activities", "活动", f"{section['count']} 项")
        for name, label, word in [
            ("participants", "参加人员", "人次"),
            ("soldiers", "参加官兵", "人次"),
            ("reached", "受益（慰问）人数", "人"),
        ]:
            if section[name]:
                add("activities", label, f"{section[name]} {word}")
        for name, label in [("money", "慰问金额"), ("goods_value", "物品折价"), ("cost", "活动经费")]:
            if _has(section[name]):
                add("activities", label, _yuan(section[name]))
        for row in section["by_type"]:
            add("activities", row["label"], f"{row['count']} 项")
        shown_apart = {*CONSCRIPTION_FIELDS.values(), *PLACEMENT_FIELDS.values()}
        for name, (label, word, _) in COUNT_FIELDS.items():
            if name not in shown_apart and section["counts"].get(name):
                add("activities", label, f"{section['counts'][name]} {word}")

    section = figures.get("leading_group") or {}
    if section:
        for name, label, word in [
            ("members", "领导小组成员", "人"),
            ("joined", "本期新任成员", "人"),
            ("left", "本期离任成员", "人"),
            ("meetings", "领导小组会议", "次"),
            ("subunit_groups", "成立领导小组的下属单位", "个"),
        ]:
            if section[name]:
                add("leading_group", label, f"{section[name]} {word}")

    section = figures.get("visits") or {}
    for row in section.get("occasions", []):
        label = row["label"]
        add("visits", f"{label}·活动", f"{row['activities']} 项")
        for name, part, word in [
            ("recipients_people", "慰问优抚对象", "人次"),
            ("groups_people", "慰问群体", "人"),
            ("gifts_count", "慰问单位", "个"),
        ]:
            if row[name]:
                add("visits", f"{label}·{part}", f"{row[name]} {word}")
        for name, part in [
            ("recipients_money", "优抚对象慰问金"),
            ("groups_money", "群体慰问金"),
            ("gifts_money", "单位慰问金"),
            ("money", "慰问金合计"),
            ("goods_value", "物品折价"),
        ]:
            if _has(row[name]):
                add("visits", f"{label}·{part}", _yuan(row[name]))

    section = figures.get("pairings") or {}
    if section:
        for name, label, word in [
            ("active", "共建对子", "对"),
            ("signed", "本期结对", "对"),
            ("ended", "本期结束共建", "对"),
            ("agreements", "签订共建协议", "份"),
            ("joint_activities", "共建活动", "项"),
            ("joint_soldiers", "共建活动参加官兵", "人次"),
        ]:
            if section[name]:
                add("pairings", label, f"{section[name]} {word}")

    for key, fields in [("conscription", CONSCRIPTION_FIELDS), ("placement", PLACEMENT_FIELDS)]:
        section = figures.get(key) or {}
        for name, field in fields.items():
            if section.get(name):
                label, word, _ = COUNT_FIELDS[field]
                add(key, label, f"{section[name]} {word}")

    section = figures.get("payments") or {}
    if section:
        for row in section["categories"]:
            label = f"{row['label']}·{row['kind_label']}"
            if _has(row["amount"]):
                parts = [f"{row['people']} 人"]
                if row["rates"]:
                    parts.append(f"标准{_rates_text(row['rates'])}")
                parts.append(_yuan(row["amount"]))
                add("payments", label, "，".join(parts))
            if _has(row["backpay_amount"]):
                add("payments", f"{label}（补发）", f"{row['backpay_people']} 人，{_yuan(row['backpay_amount'])}")
        for row in section["one_offs"]:
            add("payments", row["label"], f"{row['people']} 人，{_yuan(row['amount'])}")
        for name, label in [
            ("regular_amount", "抚恤补助（不含补发）"),
            ("backpay_amount", "补发合计"),
            ("one_off_amount", "一次性发放合计"),
            ("amount", "发放合计"),
        ]:
            if _has(section[name]):
                add("payments", label, _yuan(section[name]))
        if section["people"]:
            add("payments", "发放人数", f"{section['people']} 人")

    section = figures.get("plans") or {}
    for row in section.get("rows", []):
        add("plans", row["label"], f"完成 {row['done']} / 计划 {row['target']}（{row['percent']}%）")
    return lines


def figures_diff(old, new):
    """The lines that differ between two snapshots: [(section label, label, old text, new text)], "—" for a line
    that one of them does not have; in the order of the new lines, then the lines only the old one has."""
    before = {(section, label): value for section, label, value in figure_lines(old or {})}
    after = {(section, label): value for section, label, value in figure_lines(new or {})}
    keys = [*after, *(key for key in before if key not in after)]
    return [
        (section, label, before.get((section, label), MISSING), after.get((section, label), MISSING))
        for section, label in keys
        if before.get((section, label)) != after.get((section, label))
    ]
