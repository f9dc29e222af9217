"""因病致残 grades 7 to 10 get no 残疾抚恤金: no standard, no entitlement; grade 6 and 因战/因公 7–10 do."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from beneficiaries.constants import Category, DisabilityNature
from beneficiaries.models import Standard
from beneficiaries.services import entitlement_add
from beneficiaries.tests.test_standards import disability


@pytest.mark.parametrize("grade", [7, 8, 9, 10])
def test_an_illness_grade_7_to_10_standard_is_refused(county, office, grade):
    with pytest.raises(ValidationError) as refused:
        disability(county, office, grade=grade, nature=DisabilityNature.ILLNESS)
    assert "grade" in refused.value.message_dict
    assert not Standard.objects.exists()


@pytest.mark.parametrize("grade", [7, 8, 9, 10])
def test_an_illness_grade_7_to_10_entitlement_is_refused(person, office, grade):
    person.entitlements.all().delete()
    with pytest.raises(ValidationError) as refused:
        entitlement_add(
            beneficiary=person,
            category=Category.DISABLED,
            grade=grade,
            nature=DisabilityNature.ILLNESS,
            start_on=datetime.date(2020, 1, 1),
            recorded_by=office,
        )
    assert "因病致残七至十级不享受残疾抚恤金" in " ".join(refused.value.messages)
    assert not person.entitlements.exists()


@pytest.mark.parametrize(
    ("grade", "nature"), [(6, DisabilityNature.ILLNESS), (7, DisabilityNature.WAR), (10, DisabilityNature.DUTY)]
)
def test_other_grades_and_natures_get_their_standard(county, office, grade, nature):
    assert disability(county, office, grade=grade, nature=nature).grade == grade
