"""The panel on a person's page after a death or a loss of entitlement: what is due, what was overpaid."""

from django import template

from units.constants import Role
from units.permissions import in_scope

from ..constants import Status
from ..recovery_services import last_stop_change, settlement_plan

register = template.Library()

STOPPED = (Status.DECEASED, Status.SUSPENDED, Status.CANCELLED)


@register.simple_tag(takes_context=True)
def stop_settlement(context, person):
    """Return the Settlement of the 异动 that stopped the person's pay, or None when there is nothing to show."""
    if person.status not in STOPPED:
        return None
    change = last_stop_change(person)
    if change is None:
        return None
    plan = settlement_plan(change=change)
    if not (plan.rows or plan.recovery or plan.funeral or plan.lump_sum or (plan.grants and plan.grants.grants)):
        return None
    user = context.get("user") or context["request"].user
    plan.can_settle = in_scope(user, person.township, roles=[Role.OFFICE])
    return plan
