"""Number-like request values that are not plain ASCII numbers are ignored, never a server error.

str.isdigit() is True for "²" or "١٢", which int() or an integer column refuses; a 20-digit value overflows the
column. A page given such a value shows what it shows without it.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.tests.log_data import record
from reports.services import report_create
from shuangyong.lib.http import whole_number

# Values a page must ignore, and a valid number with blanks around it (it may name an object or none).
ODD = ["²", "١٢", "12345678901234567890", "-1"]
PADDED = " 7 "

# (persona, URL name, parameter, text the page shows without the parameter); QUERY is sent along
PAGES = [
    ("office", "reports:summaries", "unit", "溧东镇"),
    ("office", "reports:summaries", "year", "溧东镇"),
    ("liaison", "reports:summaries", "unit", "溧东镇"),
    ("liaison", "reports:summaries", "year", "溧东镇"),
    ("office", "activities:list", "unit", "八一走访慰问"),
    ("office", "activities:list", "year", "八一走访慰问"),
    ("office", "activities:list", "military_unit", "八一走访慰问"),
    ("office", "activities:list", "pairing", "八一走访慰问"),
    ("liaison", "activities:list", "unit", "八一走访慰问"),
    ("liaison", "activities:list", "year", "八一走访慰问"),
    ("office", "activities:budget", "unit", "示例县"),
    ("office", "activities:budget", "year", "示例县"),
    ("office", "activities:budget_create", "unit", "示例县"),
    ("office", "activities:budget_create", "year", "示例县"),
    ("office", "reports:quarterly", "unit", "溧东镇"),
    ("office", "reports:report_create", "unit", "示例县"),
    ("liaison", "reports:report_create", "unit", "溧东镇"),
    ("office", "beneficiaries:confirmation", "county", "示例县"),
    ("office", "beneficiaries:confirmation", "year", "示例县"),
    ("office", "beneficiaries:list", "township", "王"),
    ("office", "beneficiaries:list", "village", "王"),
    ("liaison", "beneficiaries:list", "village", "王"),
    ("office", "payments:ledger", "batch", "溧东镇"),
    ("office", "activities:create", "copy", "溧东镇"),
    ("liaison", "activities:create", "copy", "溧东镇"),
    ("liaison", "activities:recipient_search", "unit", "王*国"),
    ("liaison", "activities:recipient_search", "activity", "王*国"),
    ("office", "units:create", "parent", "示例县"),
    ("office", "units:pairing_create", "civil", "溧东镇"),
    ("office", "units:pairing_create", "military", "示例县人武部"),
]

QUERY = {"activities:recipient_search": {"q": "王"}}


@pytest.fixture
def scene(county, township, village, other_township, military_unit, pairing, person, office, liaison):
    record(township, liaison)
    report_create(unit=township, year=2025, quarter=3, created_by=liaison)
    return {"office": office, "liaison": liaison}


@pytest.mark.parametrize(("persona", "name", "parameter", "default_text"), PAGES)
def test_odd_numbers_in_a_page_parameter_leave_the_default_page(client, scene, persona, name, parameter, default_text):
    client.force_login(scene[persona])
    url, query = reverse(name), QUERY.get(name, {})
    default = client.get(url, query)
    assert default.status_code == 200
    assert default_text in default.content.decode()
    answers = {value: client.get(url, {**query, parameter: value}) for value in ODD}
    assert {value: response.status_code for value, response in answers.items()} == dict.fromkeys(ODD, 200)
    for value, response in answers.items():
        assert default_text in response.content.decode(), value
    assert client.get(url, {**query, parameter: PADDED}).status_code in (200, 404)


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("beneficiaries:transfers", {"withdraw": None}, 404),
        ("beneficiaries:confirmation", {"action": "confirm", "people": None}, 302),
        ("activities:recipient_search", {"unit": None, "activity": None, "q": "王"}, 200),
    ],
)
def test_odd_numbers_posted_get_the_normal_answer(client, scene, name, data, status):
    client.force_login(scene["office"])
    for value in [*ODD, PADDED]:
        posted = {key: value if given is None else given for key, given in data.items()}
        assert client.post(reverse(name), posted).status_code == status, value


def test_an_odd_year_posted_to_the_confirmation_confirms_for_this_year(client, scene, person):
    client.force_login(scene["office"])
    response = client.post(
        reverse("beneficiaries:confirmation"), {"action": "confirm", "people": [person.pk, "²"], "year": "²"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.confirmed_year == timezone.localdate().year


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("7", 7),
        (" 7 ", 7),
        (7, 7),
        ("007", 7),
        ("99999999999", 99999999999),
        ("999999999999", None),
        ("²", None),
        ("١٢", None),
        ("１２", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("1 2", None),
        ("", None),
        (None, None),
    ],
)
def test_whole_number_reads_only_plain_ascii_digits(value, number):
    assert whole_number(value) == number


def test_whole_number_takes_the_number_of_digits_it_is_told():
    assert whole_number("2026", digits=4) == 2026
    assert whole_number("20260", digits=4) is None
