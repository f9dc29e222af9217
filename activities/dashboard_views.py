"""The dashboard: a year of activities, money and goods, top units, plan completion and budget, as SVG charts."""

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

from shuangyong.lib.money import wan_yuan

from . import charts
from .budget_views import page_scope
from .constants import ActivityType
from .models import Activity
from .selectors import (
    activities_by_month_and_type,
    activity_totals,
    budget_overview,
    money_by_occasion,
    plans_overview,
    top_units,
    top_units_by_value,
)

MONTHS = [f"{month}月" for month in range(1, 13)]
TYPES = list(ActivityType.values)
TOP_UNITS = 10
PLANS_SHOWN = 10
# Charts in a half-width column are drawn about as wide as they show, so that their text reads at its size.
CHART_WIDTH = 600
PLAN_COLOURS = {"reached": "#198754", "lagging": "#e0a800", "on_track": "#1f77b4"}


def _percent(value):
    return f"{value}%"


def _month_rows(by_month):
    """The table under the month chart: one row per type that occurs, a value per month and the row's total."""
    return [
        {
            "type": kind,
            "label": label,
            "values": [month["by_type"].get(kind, 0) for month in by_month["months"]],
            "total": by_month["by_type"][kind],
        }
        for kind, label in by_month["types"]
    ]


def _month_chart(rows):
    series = [(row["label"], row["values"]) for row in rows]
    # A type keeps its colour whichever types occur in the year.
    colours = [charts.colour(TYPES.index(row["type"])) for row in rows]
    return charts.stacked_bars(
        categories=MONTHS, series=series, title="各月活动数（按活动类型）", width=1100, colours=colours
    )


def _occasion_chart(occasions):
    return charts.grouped_bars(
        categories=[row["label"] for row in occasions],
        series=[
            ("慰问金", [row["money"] for row in occasions]),
            ("物品折价", [row["goods_value"] for row in occasions]),
        ],
        title="各时机慰问金和物品折价",
        fmt=wan_yuan,
        width=CHART_WIDTH,
    )


def _plan_chart(plans):
    shown = plans["plans"][:PLANS_SHOWN]
    colours = [
        PLAN_COLOURS["reached" if row["all_reached"] else "lagging" if row["lagging"] else "on_track"] for row in shown
    ]
    return charts.horizontal_bars(
        rows=[(row["unit"].name, row["completion"]) for row in shown],
        title="计划完成度（完成度最低的单位在前）",
        fmt=_percent,
        maximum=100,
        colours=colours,
        width=CHART_WIDTH,
    )


def _budget_chart(budget):
    rows = [("经费合计", budget["budget"]), ("已支出", budget["spent"])]
    return charts.horizontal_bars(
        rows=rows,
        title="双拥经费使用",
        fmt=wan_yuan,
        colours=["#1f77b4", "#a4161a" if budget["spent"] > budget["budget"] else "#2ca02c"],
        width=CHART_WIDTH,
    )


@login_required
def dashboard(request):
    form, unit, year, today = page_scope(request)
    activities = Activity.objects.visible_to(request.user).filter(unit__path__startswith=unit.path)
    this_year = activities.filter(
        start_date__gte=datetime.date(year, 1, 1), start_date__lte=datetime.date(year, 12, 31)
    )
    # An occasion counts for its own year: 春节 visits made in December belong to the next year's 春节.
    of_occasions = activities.filter(
        Q(occasion="", start_date__gte=datetime.date(year, 1, 1), start_date__lte=datetime.date(year, 12, 31))
        | (~Q(occasion="") & Q(occasion_year=year))
    )
    by_month = activities_by_month_and_type(activities=activities, year=year)
    month_rows = _month_rows(by_month)
    occasions = money_by_occasion(activities=of_occasions)
    by_count = top_units(activities=this_year, limit=TOP_UNITS)
    by_value = top_units_by_value(activities=this_year, limit=TOP_UNITS)
    plans = plans_overview(user=request.user, year=year, unit=unit, today=today)
    budget = budget_overview(unit=unit, year=year)
    return render(
        request,
        "activities/dashboard.html",
        {
            "form": form,
            "unit": unit,
            "year": year,
            "totals": activity_totals(activities=this_year),
            "by_month": by_month,
            "month_rows": month_rows,
            "months": MONTHS,
            "month_chart": _month_chart(month_rows),
            "occasions": occasions,
            "occasion_chart": _occasion_chart(occasions),
            "top_by_count": by_count,
            "top_by_count_chart": charts.horizontal_bars(
                rows=[(row["name"], row["count"]) for row in by_count], title="活动最多的单位", width=CHART_WIDTH
            ),
            "top_by_value": by_value,
            "top_by_value_chart": charts.horizontal_bars(
                rows=[(row["name"], row["total_value"]) for row in by_value],
                title="慰问金额最多的单位",
                fmt=wan_yuan,
                width=CHART_WIDTH,
            ),
            "plans": plans,
            "plans_shown": plans["plans"][:PLANS_SHOWN],
            "plan_chart": _plan_chart(plans),
            "budget": budget,
            "budget_chart": _budget_chart(budget),
        },
    )
