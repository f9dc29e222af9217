import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from beneficiaries.constants import PaymentKind
from beneficiaries.models import Payment
from beneficiaries.templatetags.payment_tags import yuan, yuan_capital, yuan_number, yuan_plain
from shuangyong.lib.money import capital_yuan, format_yuan, plain_yuan, round_fen, to_yuan, wan_yuan


@pytest.mark.parametrize(
    ("amount", "capital"),
    [
        ("1546", "壹仟伍佰肆拾陆元整"),
        ("0.29", "贰角玖分"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("365", "叁佰陆拾伍元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("10.01", "壹拾元零壹分"),
        ("672.50", "陆佰柒拾贰元伍角整"),
        ("83585", "捌万叁仟伍佰捌拾伍元整"),
        ("100010", "壹拾万零壹拾元整"),
        ("1302300", "壹佰叁拾万贰仟叁佰元整"),
        ("10001000", "壹仟万壹仟元整"),
        ("100010000", "壹亿零壹万元整"),
        ("100000001", "壹亿零壹元整"),
        ("-200", "负贰佰元整"),
    ],
)
def test_capital_yuan_writes_amounts_as_a_sign_sheet_does(amount, capital):
    assert capital_yuan(amount) == capital


@pytest.mark.parametrize(
    ("amount", "prose"),
    [("203900", "20.39万元"), ("1302300", "130.23万元"), ("4704", "4704元"), ("10000", "1万元"), ("0.29", "0.29元")],
)
def test_wan_yuan_writes_amounts_as_the_summaries_do(amount, prose):
    assert wan_yuan(Decimal(amount)) == prose


def test_format_and_plain_yuan():
    assert format_yuan(Decimal("1302300")) == "1,302,300.00 元"
    assert format_yuan(Decimal("0.29"), unit="") == "0.29"
    assert format_yuan(None) == ""
    assert plain_yuan(Decimal("1302300")) == "1302300元"
    assert plain_yuan(Decimal("672.5")) == "672.50元"


def test_the_template_filters_use_the_same_formats():
    assert yuan(Decimal("83585")) == "83,585.00 元"
    assert yuan_number(Decimal("2017.5")) == "2,017.50"
    assert yuan_plain(Decimal("365")) == "365元" and yuan_plain(None) == ""
    assert yuan_capital(Decimal("1546")) == "壹仟伍佰肆拾陆元整"


def test_amounts_are_whole_fen():
    assert to_yuan("1,546") == Decimal("1546.00")
    assert round_fen(Decimal("1546") * 7 / 12) == Decimal("901.83")
    for bad in ("0.291", "abc", "NaN", "Infinity"):
        with pytest.raises(ValidationError):
            to_yuan(bad)


def test_the_database_holds_fen_and_sums_to_decimal_yuan(person):
    for n, amount in enumerate(["0.29", "0.01", "1546.00"]):
        Payment.objects.create(
            beneficiary=person,
            township=person.township,
            kind=PaymentKind.OTHER,
            month=datetime.date(2026, 1, 1),
            amount=Decimal(amount),
            reference=f"test:{n}",
        )
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("0.01"),
        Decimal("0.29"),
        Decimal("1546.00"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM(amount) FROM {Payment._meta.db_table}")
        assert cursor.fetchone()[0] == 154630
    total = Payment.objects.aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("1546.30") and isinstance(total, Decimal)
