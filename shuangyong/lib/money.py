"""Money: Decimal yuan in Python, whole fen in the database, so that sums are exact on SQLite too."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]
# 大写 has no unit above 万亿: 10^16 yuan and more cannot be written.
CAPITAL_LIMIT = Decimal(10**16)


def to_yuan(value):
    """Return a Decimal with two places; refuse anything that is not a whole number of fen."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as error:
        raise ValidationError("金额格式不正确。") from error
    if not amount.is_finite():
        raise ValidationError("金额格式不正确。")
    try:
        quantized = amount.quantize(FEN)
    except InvalidOperation as error:  # more digits than Decimal's precision holds
        raise ValidationError("金额过大，请核对。") from error
    if amount != quantized:
        raise ValidationError("金额最多保留两位小数（到分）。")
    return quantized


def to_fen(value):
    return int(to_yuan(value) * 100)


def from_fen(fen):
    return (Decimal(int(fen)) / 100).quantize(FEN)


def round_fen(value):
    """Round a computed Decimal (a pro-rated amount, say) half up to the fen."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(value, unit=" 元"):
    """1302300 -> '1,302,300.00 元'."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}{unit}"


def wan_yuan(value):
    """Prose as the summaries write it: 203900 -> '20.39万元', 1302300 -> '130.23万元', 4704 -> '4704元'."""
    value = Decimal(value)
    if abs(value) < 10000:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return f"{text}元"
    text = f"{(value / 10000).quantize(FEN, rounding=ROUND_HALF_UP)}".rstrip("0").rstrip(".")
    return f"{text}万元"


def plain_yuan(value):
    """Prose without separators, as in '全年累计发放1302300元'."""
    text = f"{Decimal(value):.2f}"
    text = text[:-3] if text.endswith(".00") else text
    return f"{text}元"


def _four_digits(number):
    """Chinese capital numerals for 0 < number < 10000, with 零 where a digit is skipped."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit:
            if zero and text:
                text += "零"
            text += DIGITS[digit] + SMALL_UNITS[position]
            zero = False
        else:
            zero = True
    return text


def capital_yuan(value):
    """Amounts in 大写 as on a 签领表: 1546 -> '壹仟伍佰肆拾陆元整', 0.29 -> '贰角玖分'."""
    value = to_yuan(value)
    if value < 0:
        return "负" + capital_yuan(-value)
    if value >= CAPITAL_LIMIT:
        raise ValidationError("金额过大，无法写成大写。")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group:
                if zero_pending or (text and group < 1000):
                    text += "零"
                text += _four_digits(group) + BIG_UNITS[index]
                zero_pending = False
            elif text:
                zero_pending = True
        text += "元"
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return text


class MoneyFormField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
        self.error_messages["max_decimal_places"] = "金额最多保留两位小数（到分）。"
        self.error_messages["invalid"] = "请输入金额（元），如 1546 或 672.50。"


class MoneyField(models.BigIntegerField):
    """An amount in yuan (Decimal, two places) stored as whole fen."""

    description = "金额（元，按分存储）"

    def from_db_value(self, value, expression, connection):
        return None if value is None else from_fen(value)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value if value is None else to_yuan(value)
        return to_yuan(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        if hasattr(value, "resolve_expression"):
            return value
        return to_fen(value)

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": MoneyFormField, **kwargs})
