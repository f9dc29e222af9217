"""The activity log: the filtered list with its totals, its Excel export, and the occasion pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from beneficiaries.exporters import display_name
from shuangyong.lib.excel import workbook_response
from shuangyong.lib.pagination import KeysFirst, paginate

from . import exporters, selectors
from .constants import Occasion
from .services import can_record

PER_PAGE = 50
# An occasion of a large scope lists thousands of gifts and people: the page shows the first ones, the 合计 all.
OCCASION_ROWS = 500


@login_required
@require_safe
def activity_list(request):
    activities, filters, errors = selectors.activity_filter(user=request.user, params=request.GET)
    totals = selectors.activity_totals(activities=activities)
    return render(
        request,
        "activities/list.html",
        {
            "filters": filters,
            "errors": errors.values(),
            "options": selectors.filter_options(user=request.user, filters=filters),
            "totals": totals,
            "count_lines": selectors.count_lines(totals["counts"]),
            "page": paginate(
                request, KeysFirst(selectors.activity_rows(activities=activities)), PER_PAGE, count=totals["count"]
            ),
            "query": selectors.filter_query(filters),
            "can_edit": can_record(request.user),
        },
    )


@login_required
@require_safe
def activity_export(request):
    activities, filters, errors = selectors.activity_filter(user=request.user, params=request.GET)
    query = selectors.filter_query(filters)
    totals = selectors.activity_totals(activities=activities)
    if totals["count"] > exporters.EXPORT_MAX_ROWS:
        messages.error(
            request,
            f"符合条件的活动有 {totals['count']} 项，超过单次导出上限 {exporters.EXPORT_MAX_ROWS} 项，"
            "请按年度、单位或时机缩小范围后再导出。",
        )
        return redirect(f"{reverse('activities:list')}?{query}" if query else "activities:list")
    description = selectors.describe_filters(filters)
    if errors:
        description += "（未生效的条件：" + " ".join(errors.values()) + "）"
    content = exporters.activity_workbook(
        activities=activities, totals=totals, description=description, exported_by=display_name(request.user)
    )
    return workbook_response(content, f"双拥活动-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_safe
def occasion_list(request):
    return render(
        request,
        "activities/occasion_list.html",
        {
            "occasions": [(value, label) for value, label in Occasion.choices if value],
            "table": selectors.occasion_index(user=request.user),
        },
    )


@login_required
@require_safe
def occasion_detail(request, year, occasion):
    if occasion not in Occasion.values or not occasion or not selectors.FIRST_YEAR <= year <= 9999:
        raise Http404
    # The page may be narrowed to a unit's subtree, as the log is (?unit=).
    _, filters, errors = selectors.activity_filter(user=request.user, params={"unit": request.GET.get("unit", "")})
    unit = filters["unit"]
    summary = selectors.occasion_summary(
        user=request.user, year=year, occasion=occasion, unit=unit, limit=OCCASION_ROWS
    )
    log_filters = {**selectors.EMPTY_FILTERS, "unit": unit, "occasion": occasion, "year": year}
    return render(
        request,
        "activities/occasion_detail.html",
        {
            "year": year,
            "occasion": occasion,
            "occasion_label": Occasion(occasion).label,
            "unit": unit,
            "unit_options": selectors.unit_options(user=request.user, chosen=unit),
            "errors": errors.values(),
            "summary": summary,
            "totals": summary["totals"],
            "count_lines": selectors.count_lines(summary["activity_totals"]["counts"]),
            "row_limit": OCCASION_ROWS,
            "log_query": selectors.filter_query(log_filters),
        },
    )
