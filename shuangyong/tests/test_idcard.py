import datetime
import random

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from shuangyong.lib.idcard import (
    IdNumberField,
    check_character,
    id_number_mismatch,
    mask_bank_account,
    mask_id_number,
    normalize_id_number,
    validate_id_number,
)

TODAY = datetime.date(2025, 6, 30)
PROVINCES = ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82"]


def reference_check(body):
    """ISO 7064 MOD 11-2 written from the definition, not from the module's tables."""
    total = sum(int(digit) * pow(2, 17 - position, 11) for position, digit in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_number(*, area="320481", born="19800101", sequence="001"):
    body = area + born + sequence
    return body + reference_check(body)


def error_message(raw, **kwargs):
    with pytest.raises(ValidationError) as caught:
        validate_id_number(raw, today=TODAY, **kwargs)
    return " ".join(caught.value.messages)


@pytest.mark.parametrize("number", ["34052419800101001X", "11010519491231002X"])
def test_it_accepts_valid_numbers_ending_in_x(number):
    assert validate_id_number(number, today=TODAY).number == number


def test_it_normalizes_lower_case_x_and_whitespace():
    assert normalize_id_number(" 34052419800101001x\n") == "34052419800101001X"
    assert validate_id_number("  11010519491231002x ", today=TODAY).number == "11010519491231002X"


def test_it_does_not_convert_full_width_digits_when_normalizing():
    assert normalize_id_number("３４０５２４１９８００１０１００１X") == "３４０５２４１９８００１０１００１X"


def test_it_rejects_a_wrong_check_digit_without_revealing_the_right_one():
    message = error_message("340524198001010010")
    assert "校验码不符" in message
    assert "X" not in message


def test_it_rejects_30_february():
    assert "“19800230”不是有效日期" in error_message(make_number(born="19800230"))


def test_it_rejects_29_february_in_a_common_year_and_accepts_it_in_a_leap_year():
    assert "不是有效日期" in error_message(make_number(born="19010229"))
    assert validate_id_number(make_number(born="20000229"), today=TODAY).birth_date == datetime.date(2000, 2, 29)


def test_it_rejects_a_birth_date_after_today():
    assert "2025-07-01 晚于今天" in error_message(make_number(born="20250701"))
    assert validate_id_number(make_number(born="20250630"), today=TODAY).birth_date == TODAY


def test_it_rejects_a_birth_date_before_1900():
    assert "1899-12-31 早于 1900-01-01" in error_message(make_number(born="18991231"))


@pytest.mark.parametrize(("raw", "given"), [("34052419800101001", 17), ("34052419800101001X0", 19)])
def test_it_rejects_wrong_lengths_and_says_how_many_were_given(raw, given):
    assert f"应为 18 位，现为 {given} 位" in error_message(raw)


@pytest.mark.parametrize(
    "raw", ["３４０５２４１９８００１０１００１X", "34052419800101001Ｘ", "３４０５２４１９８００１０１００"]
)
def test_it_rejects_full_width_digits_and_says_so(raw):
    assert "全角" in error_message(raw)


def test_it_rejects_letters_in_the_first_17_characters():
    assert "前 17 位只能是数字" in error_message("34052419800101A01X")


def test_it_rejects_a_letter_other_than_x_as_check_character():
    assert "只能是数字或 X" in error_message("34052419800101001Y")


@pytest.mark.parametrize("area", ["000000", "100000", "160000", "393001", "720000", "830000", "990000"])
def test_it_rejects_an_unknown_province_prefix(area):
    assert f"前两位“{area[:2]}”不是有效的省级行政区代码" in error_message(make_number(area=area))


def test_it_accepts_a_county_code_that_is_not_a_current_division():
    assert validate_id_number(make_number(area="329999"), today=TODAY).area_code == "329999"


def test_it_rejects_an_empty_number():
    assert "请填写身份证号" in error_message("   ")


@pytest.mark.parametrize(
    ("sequence", "sex"), [("001", "男"), ("013", "男"), ("999", "男"), ("002", "女"), ("120", "女")]
)
def test_it_derives_sex_from_the_17th_digit(sequence, sex):
    assert validate_id_number(make_number(sequence=sequence), today=TODAY).sex == sex


def test_it_derives_birth_date_and_area_code():
    parsed = validate_id_number(make_number(area="320481", born="19561003", sequence="052"), today=TODAY)
    assert parsed.birth_date == datetime.date(1956, 10, 3)
    assert parsed.area_code == "320481"
    assert parsed.sex == "女"


def test_it_derives_the_sample_numbers():
    first = validate_id_number("34052419800101001X", today=TODAY)
    second = validate_id_number("11010519491231002X", today=TODAY)
    assert (first.birth_date, first.sex, first.area_code) == (datetime.date(1980, 1, 1), "男", "340524")
    assert (second.birth_date, second.sex, second.area_code) == (datetime.date(1949, 12, 31), "女", "110105")


def test_it_counts_age_in_full_years():
    parsed = validate_id_number(make_number(born="19650815"), today=TODAY)
    assert parsed.age_on(datetime.date(2025, 8, 14)) == 59
    assert parsed.age_on(datetime.date(2025, 8, 15)) == 60
    assert parsed.age_on(datetime.date(1965, 8, 15)) == 0
    with pytest.raises(ValueError):
        parsed.age_on(datetime.date(1965, 8, 14))


def test_it_keeps_the_full_number_out_of_repr():
    parsed = validate_id_number("34052419800101001X", today=TODAY)
    assert "34052419800101001X" not in repr(parsed)
    assert "3405**********001X" in repr(parsed)


def test_it_finds_no_mismatch_when_stored_values_agree():
    assert id_number_mismatch("34052419800101001X", sex="男", birth_date=datetime.date(1980, 1, 1)) == []
    assert id_number_mismatch("34052419800101001X") == []


def test_it_flags_a_stored_sex_and_birth_date_that_disagree():
    problems = id_number_mismatch("11010519491231002X", sex="男", birth_date=datetime.date(1949, 12, 30))
    assert problems == [
        "性别登记为“男”，但身份证号第 17 位表示“女”。",
        "出生日期登记为 1949-12-30，但身份证号中为 1949-12-31。",
    ]


def test_it_compares_a_choices_member_by_its_label():
    class Gender(models.TextChoices):
        MALE = "male", "男"
        FEMALE = "female", "女"

    assert id_number_mismatch("11010519491231002X", sex=Gender.FEMALE) == []
    assert id_number_mismatch("11010519491231002X", sex=Gender.MALE) == ["性别登记为“男”，但身份证号第 17 位表示“女”。"]


def test_it_reports_an_invalid_stored_number_as_a_mismatch():
    assert id_number_mismatch("340524198001010010", sex="男") == ["身份证号校验码不符，请核对号码是否录入有误。"]


def test_it_masks_id_numbers():
    assert mask_id_number("32010219800101123X") == "3201**********123X"
    assert mask_id_number("320102198001011234") == "3201**********1234"
    assert mask_id_number("12345678") == "****"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


def test_it_masks_bank_accounts():
    assert mask_bank_account("6222 0212 3456 7891 234") == "**** **** **** 1234"
    assert mask_bank_account("6217-0000-1234-5678") == "**** **** **** 5678"
    assert mask_bank_account("1234") == "****"
    assert mask_bank_account("") == ""
    assert mask_bank_account(None) == ""


class PersonForm(forms.Form):
    id_number = IdNumberField()


def test_form_field_cleans_to_the_normalized_number():
    form = PersonForm({"id_number": " 34052419800101001x "})
    assert form.is_valid()
    assert form.cleaned_data["id_number"] == "34052419800101001X"


def test_form_field_shows_the_chinese_error():
    form = PersonForm({"id_number": "340524198001010010"})
    assert not form.is_valid()
    assert form.errors["id_number"] == ["身份证号校验码不符，请核对号码是否录入有误。"]
    assert "身份证号校验码不符" in form.as_div()


def test_form_field_asks_for_a_missing_number():
    form = PersonForm({"id_number": ""})
    assert not form.is_valid()
    assert form.errors["id_number"] == ["请填写身份证号。"]


def test_it_matches_an_independent_checksum_over_random_bodies():
    rng = random.Random(11643)
    for _ in range(500):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert check_character(body) == reference_check(body)


def test_it_accepts_only_the_right_check_character_for_random_valid_bodies():
    rng = random.Random(1999)
    earliest = datetime.date(1900, 1, 1).toordinal()
    for _ in range(300):
        area = rng.choice(PROVINCES) + f"{rng.randrange(10000):04d}"
        born = datetime.date.fromordinal(rng.randint(earliest, TODAY.toordinal())).strftime("%Y%m%d")
        body = area + born + f"{rng.randrange(1000):03d}"
        right = reference_check(body)
        assert validate_id_number(body + right, today=TODAY).number == body + right
        for wrong in set("0123456789X") - {right}:
            with pytest.raises(ValidationError):
                validate_id_number(body + wrong, today=TODAY)
