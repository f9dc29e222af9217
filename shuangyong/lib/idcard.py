"""居民身份证号 (GB 11643-1999): validate, derive birth date and sex, mask for display (with names and accounts).

The area code is checked only by its province prefix: a number keeps the county code of the place
and year it was issued, so it need not be a current division.
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
ASCII_DIGITS = frozenset("0123456789")
FULL_WIDTH_CHARACTERS = frozenset("０１２３４５６７８９Ｘｘ")
PROVINCE_CODES = frozenset(
    [str(code) for code in range(11, 16)]
    + [str(code) for code in range(21, 24)]
    + [str(code) for code in range(31, 38)]
    + [str(code) for code in range(41, 47)]
    + [str(code) for code in range(50, 55)]
    + [str(code) for code in range(61, 66)]
    + ["71", "81", "82"]
)
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
MALE = "男"
FEMALE = "女"


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str
    area_code: str

    def __repr__(self):
        # Keep full numbers out of logs and tracebacks.
        return f"IdNumber({mask_id_number(self.number)!r}, birth_date={self.birth_date}, sex={self.sex!r})"

    @property
    def masked(self):
        return mask_id_number(self.number)

    def age_on(self, on):
        """Return the age in full years (周岁) on the given date."""
        if isinstance(on, datetime.datetime):
            on = on.date()
        if on < self.birth_date:
            raise ValueError("date is before the birth date")
        return on.year - self.birth_date.year - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))


def normalize_id_number(raw):
    """Strip surrounding whitespace and upper-case a trailing x; leave everything else as typed."""
    number = "" if raw is None else str(raw).strip()
    if number.endswith("x"):
        number = number[:-1] + "X"
    return number


def check_character(body):
    """Return the check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def validate_id_number(raw, *, today=None):
    """Return the parsed IdNumber, or raise ValidationError with a message for the person typing it."""
    number = normalize_id_number(raw)
    if not number:
        raise ValidationError("请填写身份证号。", code="required")
    if FULL_WIDTH_CHARACTERS.intersection(number):
        raise ValidationError("身份证号含全角数字或字母，请切换到半角输入后重新填写。", code="full_width")
    if len(number) != LENGTH:
        raise ValidationError("身份证号应为 18 位，现为 %(given)s 位。", code="length", params={"given": len(number)})
    body, check = number[:17], number[17]
    if not ASCII_DIGITS.issuperset(body):
        raise ValidationError("身份证号前 17 位只能是数字。", code="digits")
    if check not in ASCII_DIGITS and check != "X":
        raise ValidationError("身份证号第 18 位（校验码）只能是数字或 X。", code="check_format")
    if body[:2] not in PROVINCE_CODES:
        raise ValidationError(
            "身份证号前两位“%(prefix)s”不是有效的省级行政区代码。", code="province", params={"prefix": body[:2]}
        )
    birth_date = _birth_date(body[6:14], today=today)
    if check_character(body) != check:
        raise ValidationError("身份证号校验码不符，请核对号码是否录入有误。", code="check_digit")
    sex = MALE if int(body[16]) % 2 else FEMALE
    return IdNumber(number=number, birth_date=birth_date, sex=sex, area_code=body[:6])


def _birth_date(digits, *, today):
    try:
        birth_date = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise ValidationError(
            "身份证号中的出生日期“%(digits)s”不是有效日期。", code="birth_date", params={"digits": digits}
        ) from None
    if birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            "身份证号中的出生日期 %(date)s 早于 1900-01-01。", code="birth_date", params={"date": birth_date}
        )
    if birth_date > (today or timezone.localdate()):
        raise ValidationError(
            "身份证号中的出生日期 %(date)s 晚于今天。", code="birth_date", params={"date": birth_date}
        )
    return birth_date


def id_number_mismatch(number, *, sex=None, birth_date=None):
    """Return messages for a stored sex or birth date that disagrees with the ID number.

    `sex` is "男"/"女" or a choices member whose label is; empty values are not compared.
    """
    try:
        parsed = validate_id_number(number)
    except ValidationError as error:
        return list(error.messages)
    problems = []
    if sex:
        stored_sex = getattr(sex, "label", sex)
        if stored_sex != parsed.sex:
            problems.append(f"性别登记为“{stored_sex}”，但身份证号第 17 位表示“{parsed.sex}”。")
    if birth_date:
        if isinstance(birth_date, datetime.datetime):
            birth_date = birth_date.date()
        if birth_date != parsed.birth_date:
            problems.append(f"出生日期登记为 {birth_date}，但身份证号中为 {parsed.birth_date}。")
    return problems


def mask_id_number(number):
    """Show the first 4 and last 4 characters only: 3201**********1234."""
    number = "" if number is None else str(number).strip()
    if not number:
        return ""
    if len(number) <= 8:
        return "****"
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name):
    """Show a registry person's name masked, as 公示 lists do: 王建国 -> 王*国, 王伟 -> 王*."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_bank_account(account):
    """Show the last 4 characters only, as **** **** **** 1234; a short account is masked entirely."""
    account = "" if account is None else "".join(str(account).split()).replace("-", "")
    if not account:
        return ""
    if len(account) <= 8:
        return "****"
    return "**** **** **** " + account[-4:]


class IdNumberField(forms.CharField):
    """A form field that accepts a valid 身份证号 and cleans to its normalized form."""

    default_error_messages = {"required": "请填写身份证号。"}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "身份证号")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"autocomplete": "off", "spellcheck": "false"})
        return attrs

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return validate_id_number(value).number
