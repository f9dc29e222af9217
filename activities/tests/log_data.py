"""Activities for the log's tests, recorded through the services as a user would."""

import datetime
import io
from decimal import Decimal

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


def make_person(township, n, name=None, initials=""):
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=n)
    person = Beneficiary.objects.create(
        name=name or f"对象{n}",
        name_initials=initials,
        id_number=valid_id_number(f"320481{born:%Y%m%d}{n % 1000:03d}"),
        sex="男",
        birth_date=born,
        township=township,
    )
    Entitlement.objects.create(beneficiary=person, category=Category.DEMOBILIZED, start_on=datetime.date(2012, 1, 1))
    return person


def photo(name="合影.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def record_campaign(office, township, village, other_township, person, *, board_title="村板报", **visit_fields):
    """The log's three activities: the township's 八一 visit (people and a group; `visit_fields` add to it), the
    village's 板报 with a photo, and the other township's visit with a gift."""
    return [
        record(
            township,
            office,
            title="镇八一慰问",
            participants=25,
            soldiers=10,
            reached=31,
            recipients=[
                {"beneficiary": person, "amount": Decimal("500.50"), "goods": "米油", "goods_value": Decimal("120")}
            ],
            groups=[{"description": "困难群众", "people": 30, "money": Decimal("3000")}],
            **visit_fields,
        ),
        record(
            village,
            office,
            title=board_title,
            type=ActivityType.PUBLICITY,
            occasion="",
            participants=6,
            boards=2,
            photos=[photo()],
        ),
        record(
            other_township,
            office,
            title="乡八一慰问",
            participants=12,
            soldiers=3,
            reached=4,
            gifts=[
                {
                    "recipient_name": "武警中队",
                    "money": Decimal("2000.25"),
                    "goods": "水果",
                    "goods_value": Decimal("99.75"),
                }
            ],
        ),
    ]
