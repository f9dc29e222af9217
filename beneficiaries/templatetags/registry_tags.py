from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def age(birth_date, on=None):
    """Return the age in full years (周岁) today, or on a given date."""
    if not birth_date:
        return ""
    on = on or timezone.localdate()
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@register.filter
def yes_no(value):
    return "是" if value else "否"
