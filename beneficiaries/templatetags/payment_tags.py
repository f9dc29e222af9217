"""Amounts as the portal shows them: 1,302,300.00 元, 20.39万元, 大写."""

from django import template

from shuangyong.lib.money import capital_yuan, format_yuan, plain_yuan, wan_yuan
from units import permissions

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


PAYMENT_TABS = [
    ("payments:batches", "发放批次", False),
    ("payments:ledger", "发放台账", False),
    ("payments:summary", "年度汇总", False),
    ("payments:standards", "抚恤补助标准", False),
    ("payments:recoveries", "多发追回", False),
    ("payments:death_check", "核对死亡名单", True),
    ("payments:import", "导入历史发放", True),
]


@register.inclusion_tag("payments/_tabs.html", takes_context=True)
def payment_tabs(context):
    """The payments pages' own menu; office-only pages are shown to office staff only."""
    request = context["request"]
    office = permissions.is_office(request.user)
    current = f"{request.resolver_match.namespace}:{request.resolver_match.url_name}"
    return {
        "tabs": [
            {"name": name, "label": label, "active": name == current}
            for name, label, office_only in PAYMENT_TABS
            if office or not office_only
        ]
    }
