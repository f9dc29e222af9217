"""区划代码 are resolved against the code table of its year: unknown or withdrawn 6- and 12-digit codes are refused."""

import pytest
from django.core.exceptions import ValidationError

from units.constants import UnitKind
from units.models import Unit
from units.regions import TABLE_YEAR, check_region_code, division_name
from units.services import unit_create


def test_a_current_county_code_is_resolved_in_the_table_of_its_year(city):
    assert check_region_code(kind=UnitKind.COUNTY, code="320481", parent=city) is None
    assert division_name("320481100000") == "溧阳市"


@pytest.mark.parametrize(
    "code",
    [
        "320499",  # never issued
        "320482",  # 金坛市, withdrawn in 2015 when it became 金坛区 (320413)
    ],
)
def test_an_unknown_or_withdrawn_six_digit_code_is_refused_naming_the_table_year(city, code):
    with pytest.raises(ValidationError) as refused:
        unit_create(name="新县", kind=UnitKind.COUNTY, parent=city, region_code=code)
    assert refused.value.message_dict["region_code"] == [f"区划代码 {code} 不在行政区划代码表（{TABLE_YEAR}年版）中。"]
    assert not Unit.objects.filter(name="新县").exists()


@pytest.mark.parametrize(("kind", "code"), [(UnitKind.TOWNSHIP, "320482100000"), (UnitKind.VILLAGE, "320499100201")])
def test_a_twelve_digit_code_under_an_unknown_county_is_refused(kind, code):
    assert f"不在行政区划代码表（{TABLE_YEAR}年版）中" in check_region_code(kind=kind, code=code)
