"""Activities for the log's tests, recorded through the services as a user would."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from activities.constants import ActivityType, Occasion
from activities.services import activity_create
from beneficiaries.constants import Category
from beneficiaries.models import Beneficiary, Entitlement
from conftest import valid_id_number

AUGUST_FIRST = datetime.date(2025, 7, 28)


def record(
    unit, by, *, title="八一走访慰问", on=AUGUST_FIRST, type=ActivityType.VISIT, occasion=Occasion.ARMY_DAY, **fields
):
    """Record an activity (a 八一 visit unless told otherwise) as `by` would in the form."""
    return activity_create(unit=unit, created_by=by, type=type, title=title, start_date=on, occasion=occasion, **fields)


def make_person(township, n, name=None):
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=n)
    person = Beneficiary.objects.create(
        name=name or f"对象{n}",
        id_number=valid_id_number(f"320481{born:%Y%m%d}{n % 1000:03d}"),
        sex="男",
        birth_date=born,
        township=township,
    )
    Entitlement.objects.create(beneficiary=person, category=Category.DEMOBILIZED, start_on=datetime.date(2012, 1, 1))
    return person


def photo(name="合影.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
