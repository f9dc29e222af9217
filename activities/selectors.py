"""Reads of the activity log: filters, totals, occasions, and the activities of a unit, a pairing or a person.

Every total of activities is computed here; reports and the dashboard call these functions rather than
recompute. Money columns are MoneyFields stored as whole fen, so `Sum` over them is exact on SQLite too.
What an activity gave is kept on the activity (money, goods_value, recipient_count) by the services, so the
log's totals are one aggregate over the activities; an occasion's 合计 adds its gifts, registry recipients and
recipient groups, each yuan once.
"""

import datetime
from urllib.parse import urlencode

from django.db.models import Count, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from shuangyong.lib.http import whole_number
from shuangyong.lib.idcard import mask_name
from shuangyong.lib.money import ZERO, MoneyField
from units.constants import MILITARY_KINDS, UnitKind
from units.models import Pairing, Unit, UnitPlan
from units.permissions import scope_q

from .constants import COUNT_FIELDS, ActivityType, Occasion, metric_choices
from .models import Activity, BudgetLine, Gift, Recipient, RecipientGroup

# The log's filters

NO_OCCASION = "none"
OCCASION_LABELS = dict(Occasion.choices)
TYPE_LABELS = dict(ActivityType.choices)
QUERY_MAX_CHARS = 50
FIRST_YEAR = 2000
# Selects longer than this cost more to render than the rows: deeper units are then reached by link.
SELECT_LIMIT = 300

FILTER_LABELS = {
    "unit": "单位",
    "type": "活动类型",
    "occasion": "时机",
    "year": "年度",
    "date_from": "开始日期",
    "date_to": "截止日期",
    "military_unit": "部队",
    "pairing": "共建对子",
    "has_photos": "照片",
    "q": "标题",
}
EMPTY_FILTERS = {
    "unit": None,
    "type": "",
    "occasion": "",
    "year": None,
    "date_from": None,
    "date_to": None,
    "military_unit": None,
    "pairing": None,
    "has_photos": None,
    "q": "",
}


def military_filter_choices(user):
    """Military units a user may filter by: those in scope and the partners of the pairings the user sees."""
    paired = Pairing.objects.visible_to(user).values("military_unit")
    return Unit.objects.military().filter(scope_q(user, "path") | Q(pk__in=paired))


def _pk(text):
    return whole_number(text)


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _clean(user, name, text):
    """Return the cleaned value of one filter, or raise ValueError with what is wrong with it."""
    if name == "unit":
        unit = Unit.objects.visible_to(user).filter(pk=_pk(text)).first() if _pk(text) else None
        if unit is None:
            raise ValueError("所选单位不存在或不在您的管辖范围内")
        return unit
    if name == "type":
        if text not in TYPE_LABELS:
            raise ValueError(f"没有“{text}”这种活动类型")
        return text
    if name == "occasion":
        if text != NO_OCCASION and (text not in OCCASION_LABELS or not text):
            raise ValueError(f"没有“{text}”这个时机")
        return text
    if name == "year":
        today = timezone.localdate()
        year = whole_number(text)
        if year is None or not FIRST_YEAR <= year <= today.year + 1:
            raise ValueError(f"请填写 {FIRST_YEAR}–{today.year + 1} 之间的年份")
        return year
    if name in ("date_from", "date_to"):
        day = _date(text)
        if day is None:
            raise ValueError("请写成 2025-01-31 的形式")
        return day
    if name == "military_unit":
        unit = military_filter_choices(user).filter(pk=_pk(text)).first() if _pk(text) else None
        if unit is None:
            raise ValueError("所选部队不存在或不在您的管辖范围内")
        return unit
    if name == "pairing":
        pairing = (
            Pairing.objects.visible_to(user).select_related("civil_unit", "military_unit").filter(pk=_pk(text)).first()
            if _pk(text)
            else None
        )
        if pairing is None:
            raise ValueError("所选共建对子不存在或不在您的管辖范围内")
        return pairing
    if name == "has_photos":
        if text not in ("1", "0"):
            raise ValueError("请选择“有照片”或“无照片”")
        return text == "1"
    if name == "q":
        if len(text) > QUERY_MAX_CHARS:
            raise ValueError(f"关键词最多 {QUERY_MAX_CHARS} 个字")
        return text
    raise KeyError(name)


def activity_filter(*, user, params):
    """Return (activities the user may see narrowed by the filters, cleaned filters, errors by filter name).

    A filter with a bad value is left out (the list shows everything for it) and its error names the filter.
    With an occasion chosen the year is the occasion's year (春节 visits in December count for the next year).
    """
    filters, errors = dict(EMPTY_FILTERS), {}
    for name in EMPTY_FILTERS:
        text = str(params.get(name, "") or "").strip()
        if not text:
            continue
        try:
            filters[name] = _clean(user, name, text)
        except ValueError as error:
            errors[name] = f"{FILTER_LABELS[name]}：{error}，此条件未生效。"
    if filters["date_from"] and filters["date_to"] and filters["date_to"] < filters["date_from"]:
        errors["date_to"] = "截止日期：早于开始日期，此条件未生效。"
        filters["date_to"] = None

    activities = Activity.objects.visible_to(user)
    if filters["unit"]:
        activities = activities.filter(unit__path__startswith=filters["unit"].path)
    if filters["type"]:
        activities = activities.filter(type=filters["type"])
    if filters["occasion"]:
        activities = activities.filter(occasion="" if filters["occasion"] == NO_OCCASION else filters["occasion"])
    if filters["year"]:
        if filters["occasion"] and filters["occasion"] != NO_OCCASION:
            activities = activities.filter(occasion_year=filters["year"])
        else:
            activities = activities.filter(
                start_date__gte=datetime.date(filters["year"], 1, 1),
                start_date__lte=datetime.date(filters["year"], 12, 31),
            )
    if filters["date_from"]:
        activities = activities.filter(start_date__gte=filters["date_from"])
    if filters["date_to"]:
        activities = activities.filter(start_date__lte=filters["date_to"])
    if filters["military_unit"]:
        activities = activities.filter(_involves(filters["military_unit"]))
    if filters["pairing"]:
        activities = activities.filter(_of_pairing(filters["pairing"]))
    if filters["has_photos"] is not None:
        activities = activities.filter(photo_count__gt=0) if filters["has_photos"] else activities.filter(photo_count=0)
    if filters["q"]:
        activities = activities.filter(title__icontains=filters["q"])
    return activities, filters, errors


def _involves(military_unit):
    """Activities a military unit organized, took part in or received a gift from."""
    # Subqueries rather than joins, so that no activity is counted twice in a total.
    joined = Activity.military_units.through.objects.filter(unit=military_unit).values("activity_id")
    gifted = Gift.objects.filter(recipient_unit=military_unit).values("activity_id")
    return Q(unit=military_unit) | Q(pk__in=joined) | Q(pk__in=gifted)


def _of_pairing(pairing):
    return Q(pk__in=Activity.pairings.through.objects.filter(pairing=pairing).values("activity_id"))


def filter_query(filters):
    """Return the query string that gives the same filters (for links, pagination and the export)."""
    params = {}
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if isinstance(value, (Unit, Pairing)):
            value = value.pk
        elif isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        params[name] = value
    return urlencode(params)


def describe_filters(filters):
    """Return the filters in words, e.g. “单位：溧东镇；时机：八一；年度：2025”."""
    parts = []
    for name, value in filters.items():
        if value is None or value == "":
            continue
        if name == "type":
            value = TYPE_LABELS[value]
        elif name == "occasion":
            value = "无（日常活动）" if value == NO_OCCASION else OCCASION_LABELS[value]
        elif name == "has_photos":
            value = "有照片" if value else "无照片"
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        parts.append(f"{FILTER_LABELS[name]}：{value}")
    return "；".join(parts) or "全部"


def filter_options(*, user, filters):
    """Return the choices of the log's filter form: units, military units, pairings and years in the user's scope."""
    return {
        "units": unit_options(user=user, chosen=filters["unit"]),
        "types": ActivityType.choices,
        "occasions": [*((value, label) for value, label in Occasion.choices if value), (NO_OCCASION, "无（日常活动）")],
        "military_units": _capped(
            military_filter_choices(user).order_by("path"), filters["military_unit"], lambda u: (u.pk, u.name)
        ),
        "pairings": _capped(
            Pairing.objects.visible_to(user)
            .select_related("civil_unit", "military_unit")
            .order_by("civil_unit__path", "military_unit__path", "pk"),
            filters["pairing"],
            lambda p: (p.pk, str(p)),
        ),
        "years": _years(filters["year"]),
    }


def _capped(queryset, chosen, option):
    options = [option(item) for item in queryset[:SELECT_LIMIT]]
    if chosen is not None and all(pk != chosen.pk for pk, _ in options):
        options.append(option(chosen))
    return options


def unit_options(*, user, chosen=None):
    """Civil units in scope, indented by level; in a large scope only the upper levels (deeper ones by link)."""
    units = Unit.objects.visible_to(user).civil()
    levels = units.order_by().values_list("depth").annotate(n=Count("pk")).order_by("depth")
    max_depth, seen = None, 0
    for depth, count in levels:
        if max_depth is not None and seen + count > SELECT_LIMIT:
            break
        max_depth, seen = depth, seen + count
    if max_depth is None:
        return []
    rows = list(units.filter(depth__lte=max_depth).order_by("path").values_list("pk", "name", "depth"))
    if chosen is not None and chosen.depth > max_depth:
        rows.append((chosen.pk, chosen.name, chosen.depth))
    top = min(depth for _, _, depth in rows)
    return [(pk, "　" * (depth - top) + name) for pk, name, depth in rows]


def _years(chosen):
    this_year = timezone.localdate().year
    first = Activity.objects.aggregate(first=Min("start_date"))["first"]
    years = list(range(this_year, (first.year if first else this_year) - 1, -1))
    if chosen and chosen not in years:
        years = sorted({*years, chosen}, reverse=True)
    return years


def activity_rows(*, activities):
    """Load what a row of the log shows."""
    return activities.select_related("unit")


# Totals

SUMMED = ["participants", "soldiers", "reached", "money", "goods_value", "cost", "recipient_count", "photo_count"]


def activity_totals(*, activities):
    """Return the totals of the activities in one aggregate query over their columns.

    count, participants, soldiers (官兵), reached, money (慰问金), goods_value (物品折价), total_value (both),
    cost (活动经费), recipients (registry recipients + group people), photos, and counts {field: sum} for every
    COUNT_FIELDS field.
    """
    row = activities.order_by().aggregate(
        count=Count("pk"), **{name: Sum(name) for name in SUMMED}, **{name: Sum(name) for name in COUNT_FIELDS}
    )
    money, goods_value = row["money"] or ZERO, row["goods_value"] or ZERO
    return {
        "count": row["count"],
        "participants": row["participants"] or 0,
        "soldiers": row["soldiers"] or 0,
        "reached": row["reached"] or 0,
        "money": money,
        "goods_value": goods_value,
        "total_value": money + goods_value,
        "cost": row["cost"] or ZERO,
        "recipients": row["recipient_count"] or 0,
        "photos": row["photo_count"] or 0,
        "counts": {name: row[name] or 0 for name in COUNT_FIELDS},
    }


def count_lines(counts):
    """The non-zero counts as a summary states them: [("板报", 6, "期"), ...] in COUNT_FIELDS order."""
    return [(label, counts[name], word) for name, (label, word, _) in COUNT_FIELDS.items() if counts.get(name)]


# Occasions


def occasion_activities(*, user, year, occasion, unit=None):
    activities = Activity.objects.visible_to(user).filter(occasion_year=year, occasion=occasion)
    if unit is not None:
        activities = activities.filter(unit__path__startswith=unit.path)
    return activities


NOTHING_GIVEN = {
    **dict.fromkeys(["gifts_count", "gifts_to_troops", "recipients_people", "recipients_distinct"], 0),
    **dict.fromkeys(["groups_count", "groups_people"], 0),
    **dict.fromkeys(["gifts_money", "gifts_goods", "recipients_money", "recipients_goods"], ZERO),
    **dict.fromkeys(["groups_money", "groups_goods"], ZERO),
}


def given_by_occasion(*, activities):
    """Return what the activities gave per occasion ("" for everyday visits), split by recipient.

    {occasion: {"gifts_count", "gifts_to_troops", "gifts_money", "gifts_goods" (gifts to units),
    "recipients_people" (人次), "recipients_distinct", "recipients_money", "recipients_goods" (registry people),
    "groups_count", "groups_people", "groups_money", "groups_goods" (recipient groups)}}; an occasion whose
    activities gave nothing is absent (NOTHING_GIVEN). Three queries whatever the number of occasions.
    """
    ids = activities.values("pk")
    given = {}

    def row(occasion):
        return given.setdefault(occasion, dict(NOTHING_GIVEN))

    troops = Q(recipient_unit__kind__in=MILITARY_KINDS)
    for occasion, count, to_troops, paid, goods in (
        Gift.objects.filter(activity__in=ids)
        .order_by()
        .values_list("activity__occasion")
        .annotate(n=Count("pk"), troops=Count("pk", filter=troops), paid=Sum("money"), goods=Sum("goods_value"))
    ):
        row(occasion).update(
            gifts_count=count, gifts_to_troops=to_troops, gifts_money=paid or ZERO, gifts_goods=goods or ZERO
        )
    for occasion, count, distinct, paid, goods in (
        Recipient.objects.filter(activity__in=ids)
        .order_by()
        .values_list("activity__occasion")
        .annotate(
            n=Count("pk"), distinct=Count("beneficiary", distinct=True), paid=Sum("amount"), goods=Sum("goods_value")
        )
    ):
        row(occasion).update(
            recipients_people=count,
            recipients_distinct=distinct,
            recipients_money=paid or ZERO,
            recipients_goods=goods or ZERO,
        )
    for occasion, count, people, paid, goods in (
        RecipientGroup.objects.filter(activity__in=ids)
        .order_by()
        .values_list("activity__occasion")
        .annotate(n=Count("pk"), people=Sum("people"), paid=Sum("money"), goods=Sum("goods_value"))
    ):
        row(occasion).update(
            groups_count=count, groups_people=people or 0, groups_money=paid or ZERO, groups_goods=goods or ZERO
        )
    return given


def occasion_summary(*, user, year, occasion, unit=None, limit=None):
    """Return an occasion's activities, gifts, recipient groups and registry recipients, and its 合计.

    totals (given_by_occasion's split): gifts_count, gifts_to_troops, gifts_money, gifts_goods (value),
    groups_count, groups_people, groups_money, groups_goods, recipients_people (人次), recipients_distinct,
    recipients_money, recipients_goods, money (合计: gifts + recipients + groups, each yuan once), goods_value,
    total_value (both), people (recipients + group people), and activity totals (activity_totals). The lists hold
    at most `limit` rows each; registry recipients carry `masked_name`.
    """
    activities = occasion_activities(user=user, year=year, occasion=occasion, unit=unit)
    ids = activities.values("pk")
    gifts = Gift.objects.filter(activity__in=ids)
    groups = RecipientGroup.objects.filter(activity__in=ids)
    recipients = Recipient.objects.filter(activity__in=ids)
    totals = {**NOTHING_GIVEN, **given_by_occasion(activities=activities).get(occasion, {})}
    totals["money"] = totals["gifts_money"] + totals["recipients_money"] + totals["groups_money"]
    totals["goods_value"] = totals["gifts_goods"] + totals["recipients_goods"] + totals["groups_goods"]
    totals["total_value"] = totals["money"] + totals["goods_value"]
    totals["people"] = totals["recipients_people"] + totals["groups_people"]

    def first(queryset):
        return list(queryset[:limit] if limit else queryset)

    order = ("activity__start_date", "activity_id", "pk")
    recipient_rows = first(recipients.select_related("beneficiary", "activity__unit").order_by(*order))
    for recipient in recipient_rows:
        recipient.masked_name = mask_name(recipient.beneficiary.name)
    return {
        "activities": first(activity_rows(activities=activities).order_by("start_date", "pk")),
        "gifts": first(gifts.select_related("recipient_unit", "activity__unit").order_by(*order)),
        "groups": first(groups.select_related("activity__unit").order_by(*order)),
        "recipients": recipient_rows,
        "totals": totals,
        "activity_totals": activity_totals(activities=activities),
    }


def occasion_index(*, user):
    """Return the years × occasions table of the occasions page: activities, money and goods per cell and year.

    [{"year", "cells": [{"occasion", "label", "count", "money", "goods_value", "total_value"} or None, ...],
      "count", "money", "goods_value", "total_value"}], newest year first; cells in Occasion order.
    """
    occasions = [value for value in Occasion.values if value]
    rows = (
        Activity.objects.visible_to(user)
        .exclude(occasion="")
        .order_by()
        .values_list("occasion_year", "occasion")
        .annotate(count=Count("pk"), money=Sum("money"), goods_value=Sum("goods_value"))
    )
    years = {}
    for year, occasion, count, money, goods_value in rows:
        money, goods_value = money or ZERO, goods_value or ZERO
        line = years.setdefault(
            year, {"year": year, "cells": {}, "count": 0, "money": ZERO, "goods_value": ZERO, "total_value": ZERO}
        )
        line["cells"][occasion] = {
            "occasion": occasion,
            "label": OCCASION_LABELS.get(occasion, occasion),
            "count": count,
            "money": money,
            "goods_value": goods_value,
            "total_value": money + goods_value,
        }
        line["count"] += count
        line["money"] += money
        line["goods_value"] += goods_value
        line["total_value"] += money + goods_value
    table = []
    for year in sorted(years, reverse=True):
        line = years[year]
        line["cells"] = [line["cells"].get(occasion) for occasion in occasions]
        table.append(line)
    return table


# A unit's, a pairing's and a person's activities


def unit_activities(*, user, unit, limit=5):
    """Return a unit's latest activities and the year's totals: its subtree's, or for a military unit its own.

    {"latest": [...], "year", "totals": activity_totals of this year, "query": the log's filter for them}
    """
    activities = Activity.objects.visible_to(user)
    if unit.is_military:
        activities, query = activities.filter(_involves(unit)), {"military_unit": unit}
    else:
        activities, query = activities.filter(unit__path__startswith=unit.path), {"unit": unit}
    return _latest_and_year(activities, query, limit)


def pairing_activities(*, user, pairing, limit=5):
    """Return a pairing's latest activities and the year's totals (as unit_activities)."""
    activities = Activity.objects.visible_to(user).filter(_of_pairing(pairing))
    return _latest_and_year(activities, {"pairing": pairing}, limit)


def _latest_and_year(activities, query, limit):
    year = timezone.localdate().year
    this_year = activities.filter(
        start_date__gte=datetime.date(year, 1, 1), start_date__lte=datetime.date(year, 12, 31)
    )
    return {
        "latest": list(activity_rows(activities=activities)[:limit]),
        "year": year,
        "totals": activity_totals(activities=this_year),
        "query": filter_query(query),
        "year_query": filter_query({**query, "year": year}),
    }


def person_visits(*, beneficiary, user=None):
    """Return every visit of a registry person, newest first: the activity (date, title, unit), amount and goods.

    With a user, each visit says whether the user may open its activity (`activity_visible`).
    """
    visits = list(
        Recipient.objects.filter(beneficiary=beneficiary)
        .select_related("activity__unit")
        .order_by("-activity__start_date", "-activity_id")
    )
    if user is not None and visits:
        visible = set(
            Activity.objects.visible_to(user)
            .filter(pk__in=[v.activity_id for v in visits])
            .values_list("pk", flat=True)
        )
        for visit in visits:
            visit.activity_visible = visit.activity_id in visible
    return visits


# Dashboard figures


def activities_by_month_and_type(*, activities, year):
    """Return the year's activities per month and type.

    {"months": [{"month": 1..12, "by_type": {type: n}, "total": n}], "types": [(type, label) that occur, in
    ActivityType order], "by_type": {type: n}, "total": n}
    """
    rows = (
        activities.filter(start_date__gte=datetime.date(year, 1, 1), start_date__lte=datetime.date(year, 12, 31))
        .order_by()
        .annotate(month=ExtractMonth("start_date"))
        .values_list("month", "type")
        .annotate(n=Count("pk"))
    )
    months = [{"month": month, "by_type": {}, "total": 0} for month in range(1, 13)]
    by_type = {}
    for month, kind, n in rows:
        months[month - 1]["by_type"][kind] = n
        months[month - 1]["total"] += n
        by_type[kind] = by_type.get(kind, 0) + n
    return {
        "months": months,
        "types": [(value, label) for value, label in ActivityType.choices if value in by_type],
        "by_type": by_type,
        "total": sum(by_type.values()),
    }


def money_by_occasion(*, activities):
    """Return money and goods given per occasion, in Occasion order with the everyday activities (无) last.

    [{"occasion", "label", "count", "money", "goods_value", "total_value"}] for the occasions that occur.
    """
    rows = {
        occasion: (count, money or ZERO, goods_value or ZERO)
        for occasion, count, money, goods_value in activities.order_by()
        .values_list("occasion")
        .annotate(count=Count("pk"), money=Sum("money"), goods_value=Sum("goods_value"))
    }
    order = [value for value in Occasion.values if value] + [""]
    return [
        {
            "occasion": occasion,
            "label": OCCASION_LABELS[occasion] if occasion else "日常活动",
            "count": rows[occasion][0],
            "money": rows[occasion][1],
            "goods_value": rows[occasion][2],
            "total_value": rows[occasion][1] + rows[occasion][2],
        }
        for occasion in order
        if occasion in rows
    ]


def top_units(*, activities, limit=10):
    """Return the units that organized the most activities: [{"unit_id", "name", "count", "participants",
    "money", "goods_value", "total_value"}], most activities first."""
    rows = (
        activities.order_by()
        .values_list("unit_id", "unit__name")
        .annotate(
            count=Count("pk"), participants=Sum("participants"), money=Sum("money"), goods_value=Sum("goods_value")
        )
        .order_by("-count", "-money", "unit__name", "unit_id")[:limit]
    )
    return [
        {
            "unit_id": unit_id,
            "name": name,
            "count": count,
            "participants": participants or 0,
            "money": money or ZERO,
            "goods_value": goods_value or ZERO,
            "total_value": (money or ZERO) + (goods_value or ZERO),
        }
        for unit_id, name, count, participants, money, goods_value in rows
    ]


# Plans, budget and dashboard

PLAN_MISSING_LIMIT = 100


def _year_span(activities, year):
    return activities.filter(start_date__gte=datetime.date(year, 1, 1), start_date__lte=datetime.date(year, 12, 31))


def plan_done(*, activities, units, year, metrics):
    """Return {unit pk: {metric: done}}: what each unit's subtree did in the year, for each plan metric.

    "type:X" counts the activities of type X, "count:F" adds up the count F. One grouped query over the
    activities; each group is added to every listed unit on its path, so a village counts for its township.
    """
    fields = sorted({metric.split(":", 1)[1] for metric in metrics if metric.startswith("count:")})
    fields = [name for name in fields if name in COUNT_FIELDS]
    done = {unit.pk: dict.fromkeys(metrics, 0) for unit in units}
    if not done:
        return done
    rows = (
        _year_span(activities, year)
        .order_by()
        .values("unit__path", "type")
        .annotate(n=Count("pk"), **{f"sum_{name}": Sum(name) for name in fields})
    )
    for row in rows:
        for part in row["unit__path"].strip("/").split("/"):
            counts = done.get(int(part))
            if counts is None:
                continue
            kind = f"type:{row['type']}"
            if kind in counts:
                counts[kind] += row["n"]
            for name in fields:
                counts[f"count:{name}"] += row[f"sum_{name}"] or 0
    return done


def expected_percent(*, year, today):
    """How far through the year a plan should be: 100 for a past year, 0 for a future one, else the share of days."""
    if year < today.year:
        return 100
    if year > today.year:
        return 0
    first = datetime.date(year, 1, 1)
    return (today - first).days * 100 // (datetime.date(year, 12, 31) - first).days


def plan_progress(*, plan, done, expected=100):
    """Return the plan's rows (target against done so far) and its completion.

    {"plan", "rows": [{"metric", "label", "target", "done", "percent" (0-100), "reached"}], "completion" (mean of
    the capped row percentages), "reached" (rows met), "all_reached", "open" (rows not met), "lagging" (some row
    not met and completion below `expected`)}
    """
    labels = dict(metric_choices())
    rows = []
    for target in plan.targets.all():
        value = done.get(target.metric, 0)
        rows.append(
            {
                "metric": target.metric,
                "label": labels.get(target.metric, target.metric),
                "target": target.target,
                "done": value,
                "percent": min(100, value * 100 // target.target),
                "reached": value >= target.target,
            }
        )
    completion = sum(row["percent"] for row in rows) // len(rows) if rows else 0
    reached = sum(1 for row in rows if row["reached"])
    return {
        "plan": plan,
        "rows": rows,
        "completion": completion,
        "reached": reached,
        "all_reached": bool(rows) and reached == len(rows),
        "open": [row for row in rows if not row["reached"]],
        "lagging": bool(rows) and reached < len(rows) and completion < expected,
    }


def unit_plan(*, unit, year, today=None):
    """Return the progress of the unit's plan for the year (plan_progress), or None when it has no plan."""
    plan = UnitPlan.objects.filter(unit=unit, year=year).prefetch_related("targets").first()
    if plan is None:
        return None
    metrics = [target.metric for target in plan.targets.all()]
    done = plan_done(activities=Activity.objects.all(), units=[unit], year=year, metrics=metrics)[unit.pk]
    expected = expected_percent(year=year, today=today or timezone.localdate())
    return plan_progress(plan=plan, done=done, expected=expected)


def plan_required_units(*, user):
    """The units that must keep an annual plan: the member units in scope (active, civil, not villages)."""
    return Unit.objects.visible_to(user).filter(is_active=True).exclude(kind__in=[*MILITARY_KINDS, UnitKind.VILLAGE])


def plans_overview(*, user, year, unit=None, today=None):
    """Return the plans of the year in the user's scope (within `unit` if given), lagging ones first.

    {"plans": [plan_progress + "unit"], "expected", "count", "all_reached" (units that met every target),
    "lagging" (count), "missing": the first PLAN_MISSING_LIMIT member units without a plan, "missing_count"}
    """
    today = today or timezone.localdate()
    plans = UnitPlan.objects.visible_to(user).filter(year=year).select_related("unit").prefetch_related("targets")
    required = plan_required_units(user=user)
    activities = Activity.objects.visible_to(user)
    if unit is not None:
        plans = plans.filter(unit__path__startswith=unit.path)
        required = required.filter(path__startswith=unit.path)
        activities = activities.filter(unit__path__startswith=unit.path)
    plans = list(plans)
    metrics = {target.metric for plan in plans for target in plan.targets.all()}
    done = plan_done(activities=activities, units=[plan.unit for plan in plans], year=year, metrics=sorted(metrics))
    expected = expected_percent(year=year, today=today)
    rows = [
        {**plan_progress(plan=plan, done=done[plan.unit_id], expected=expected), "unit": plan.unit} for plan in plans
    ]
    rows.sort(key=lambda row: (row["completion"], row["reached"], row["unit"].path))
    missing = required.exclude(plans__year=year).order_by("path")
    return {
        "plans": rows,
        "expected": expected,
        "count": len(rows),
        "all_reached": sum(1 for row in rows if row["all_reached"]),
        "lagging": sum(1 for row in rows if row["lagging"]),
        "missing": list(missing[:PLAN_MISSING_LIMIT]),
        "missing_count": missing.count(),
    }


SPENDING_PARTS = [
    ("gifts_money", "慰问单位·慰问金"),
    ("gifts_goods", "慰问单位·物品折价"),
    ("recipients_money", "慰问优抚对象·慰问金"),
    ("recipients_goods", "慰问优抚对象·物品折价"),
    ("groups_money", "慰问群体·慰问金"),
    ("groups_goods", "慰问群体·物品折价"),
    ("cost", "活动经费"),
]


def _child_of(unit, path):
    """The pk of the direct child of `unit` on `path`, or None when the path is the unit itself."""
    rest = path[len(unit.path) :].strip("/")
    return int(rest.split("/", 1)[0]) if rest else None


def budget_overview(*, unit, year):
    """Return the year's 双拥经费 of the unit's subtree and what its activities spent against it.

    Spending = what the activities gave (gifts, registry 慰问金 and groups: money and goods) + their 活动经费,
    counting the activities of the subtree that started in the year.
    {"lines", "budget", "parts": [(key, label, amount)], "spent", "percent" (None without budget), "bar" (percent
     capped at 100, for a progress bar), "left", "over" (overspent),
     "by_unit": [{"unit", "own" (the unit itself), "budget", "money", "goods_value", "cost", "spent", "count",
     "percent", "bar"}],
     "by_occasion": [{"occasion", "label", "count", "money", "goods_value", "cost", "spent"}]}
    """
    lines = list(
        BudgetLine.objects.filter(unit__path__startswith=unit.path, year=year)
        .select_related("unit")
        .order_by("unit__path", "source")
    )
    budget = sum((line.amount for line in lines), ZERO)
    activities = _year_span(Activity.objects.filter(unit__path__startswith=unit.path), year)
    given = given_by_occasion(activities=activities).values()
    amounts = {key: sum((row[key] for row in given), ZERO) for key, _ in SPENDING_PARTS if key != "cost"}
    amounts["cost"] = activities.aggregate(cost=Sum("cost"))["cost"]
    parts = [(key, label, amounts[key] or ZERO) for key, label in SPENDING_PARTS]
    spent = sum((amount for _, _, amount in parts), ZERO)

    children = {child.pk: child for child in Unit.objects.filter(parent=unit).order_by("path")}
    by_unit = {}

    def unit_row(pk):
        if pk not in by_unit:
            by_unit[pk] = {
                "unit": children.get(pk, unit),
                "own": pk is None,
                "budget": ZERO,
                "count": 0,
                "money": ZERO,
                "goods_value": ZERO,
                "cost": ZERO,
            }
        return by_unit[pk]

    for line in lines:
        unit_row(_child_of(unit, line.unit.path))["budget"] += line.amount
    spending = (
        activities.order_by()
        .values_list("unit__path")
        .annotate(count=Count("pk"), money=Sum("money"), goods_value=Sum("goods_value"), cost=Sum("cost"))
    )
    for path, count, money, goods_value, cost in spending:
        row = unit_row(_child_of(unit, path))
        row["count"] += count
        row["money"] += money or ZERO
        row["goods_value"] += goods_value or ZERO
        row["cost"] += cost or ZERO
    for row in by_unit.values():
        row["spent"] = row["money"] + row["goods_value"] + row["cost"]
        row["percent"] = _percent(row["spent"], row["budget"])
        row["bar"] = min(row["percent"] or 0, 100)
    unit_rows = sorted(by_unit.values(), key=lambda row: (not row["own"], -row["spent"], row["unit"].path))

    occasion_rows = []
    order = [value for value in Occasion.values if value] + [""]
    by_occasion = {
        occasion: (count, money or ZERO, goods_value or ZERO, cost or ZERO)
        for occasion, count, money, goods_value, cost in activities.order_by()
        .values_list("occasion")
        .annotate(count=Count("pk"), money=Sum("money"), goods_value=Sum("goods_value"), cost=Sum("cost"))
    }
    for occasion in order:
        if occasion in by_occasion:
            count, money, goods_value, cost = by_occasion[occasion]
            occasion_rows.append(
                {
                    "occasion": occasion,
                    "label": OCCASION_LABELS[occasion] if occasion else "日常活动",
                    "count": count,
                    "money": money,
                    "goods_value": goods_value,
                    "cost": cost,
                    "spent": money + goods_value + cost,
                }
            )
    return {
        "unit": unit,
        "year": year,
        "lines": lines,
        "budget": budget,
        "parts": parts,
        "spent": spent,
        "left": budget - spent,
        "over": max(spent - budget, ZERO),
        "percent": _percent(spent, budget),
        "bar": min(_percent(spent, budget) or 0, 100),
        "by_unit": unit_rows,
        "by_occasion": occasion_rows,
    }


def _percent(part, whole):
    """Whole per cent of `whole` used (may exceed 100); None when there is no budget to compare with."""
    if not whole:
        return None
    return int(part * 100 / whole)


def top_units_by_value(*, activities, limit=10):
    """Return the units that gave the most (money + goods value), as top_units rows, most first."""
    given = ExpressionWrapper(F("given_money") + F("given_goods"), output_field=MoneyField())
    rows = (
        activities.order_by()
        .values_list("unit_id", "unit__name")
        .annotate(count=Count("pk"), given_money=Sum("money"), given_goods=Sum("goods_value"))
        .annotate(given=given)
        .filter(given__gt=0)
        .order_by("-given", "unit__name", "unit_id")[:limit]
    )
    return [
        {
            "unit_id": unit_id,
            "name": name,
            "count": count,
            "money": money or ZERO,
            "goods_value": goods_value or ZERO,
            "total_value": (money or ZERO) + (goods_value or ZERO),
        }
        for unit_id, name, count, money, goods_value, _ in rows
    ]
