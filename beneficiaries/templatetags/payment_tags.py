"""Amounts as the portal shows them: 1,302,300.00 元, 20.39万元, 大写."""

from django import template

from shuangyong.lib.money import capital_yuan, format_yuan, plain_yuan, wan_yuan

register = template.Library()


@register.filter
def yuan(value):
    """1302300 -> '1,302,300.00 元'; nothing for None."""
    return format_yuan(value)


@register.filter
def yuan_plain(value):
    """A rate as a summary writes it: 365 -> '365元', 672.5 -> '672.50元'."""
    return "" if value is None else plain_yuan(value)


@register.filter
def yuan_wan(value):
    return "" if value is None else wan_yuan(value)


@register.filter
def yuan_capital(value):
    return "" if value is None else capital_yuan(value)


@register.filter
def yuan_number(value):
    """An amount in a column headed 金额（元）: 1546 -> '1,546.00'."""
    return format_yuan(value, unit="")
