"""Masking filters: ID numbers and bank accounts leave the server masked unless a reveal is logged."""

from django import template

from shuangyong.lib.idcard import mask_bank_account, mask_id_number

register = template.Library()


@register.filter
def mask_id(value):
    """Render a 居民身份证号 as 3201**********1234."""
    return mask_id_number(value)


@register.filter
def mask_account(value):
    """Render a bank account as **** **** **** 1234."""
    return mask_bank_account(value)
