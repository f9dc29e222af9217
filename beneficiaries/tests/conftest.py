import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beneficiaries.constants import Category, PaymentKind

from .payment_helpers import make_people, make_standard


@pytest.fixture
def martyr_count():
    return 40


@pytest.fixture
def martyrs(county, township, martyr_count):
    """`martyr_count` martyr families of the township, on the county's pension of 200 a month."""
    make_standard(county, PaymentKind.PENSION, Category.MARTYR_FAMILY, 200)
    return make_people(township, martyr_count, Category.MARTYR_FAMILY)


def post_death(client, person, pdf):
    """Record through the form that the person died of illness on 2026-03-05, with the pdf as certificate."""
    return client.post(
        reverse("beneficiaries:change_add", args=[person.pk]),
        {
            "kind": "death",
            "effective_on": "2026-03-05",
            "death_cause": "illness",
            "reason": "病故",
            "document": SimpleUploadedFile("证明.pdf", pdf),
        },
    )
