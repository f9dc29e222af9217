from django import template
from django.utils import timezone

from activities.selectors import unit_plan

from ..permissions import in_scope
from ..plan_services import PLAN_EDITORS

register = template.Library()


@register.inclusion_tag("units/plan_card.html", takes_context=True)
def unit_plan_card(context, unit):
    """The unit page's 年度计划 card: this year's targets against what was done, or a link to write the plan."""
    user = context["request"].user
    today = timezone.localdate()
    return {
        "unit": unit,
        "year": today.year,
        "progress": unit_plan(unit=unit, year=today.year, today=today),
        "can_edit": unit.is_active and in_scope(user, unit, roles=PLAN_EDITORS),
    }
