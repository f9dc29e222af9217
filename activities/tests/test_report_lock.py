"""An accepted quarterly report makes its quarter's activities read-only for liaisons; the office may correct."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.constants import ActivityType
from activities.models import Activity
from activities.services import activity_create, activity_update
from reports.constants import ReportStatus
from reports.models import QuarterlyReport

DAY = datetime.date(2026, 8, 3)


@pytest.fixture
def accepted(township, office):
    return QuarterlyReport.objects.create(
        unit=township, year=2026, quarter=3, status=ReportStatus.ACCEPTED, due_on=datetime.date(2026, 10, 10)
    )


def _activity(unit, user, day=DAY, title="八一座谈会"):
    return activity_create(
        unit=unit, created_by=user, type=ActivityType.FORUM, start_date=day, title=title, participants=10
    )


@time_machine.travel(datetime.datetime(2026, 11, 1, 9, 0))
def test_a_liaison_cannot_add_or_change_activities_of_an_accepted_quarter(personas, township, village, accepted):
    liaison = personas["liaison"]
    kept = _activity(township, personas["office"])
    with pytest.raises(ValidationError) as error:
        _activity(village, liaison, title="村里补登的活动")
    assert "已通过" in str(error.value) and "锁定" in str(error.value)
    with pytest.raises(ValidationError):
        activity_update(activity=kept, updated_by=liaison, title="改名")
    kept.refresh_from_db()
    assert kept.title == "八一座谈会"
    assert not Activity.objects.filter(title="村里补登的活动").exists()
    # Another quarter is open, and the office may still correct this one.
    assert _activity(township, liaison, day=datetime.date(2026, 10, 8), title="十月活动").pk
    activity_update(activity=kept, updated_by=personas["office"], title="八一军政座谈会")
    kept.refresh_from_db()
    assert kept.title == "八一军政座谈会"


@time_machine.travel(datetime.datetime(2026, 11, 1, 9, 0))
def test_the_page_says_so_and_offers_no_edit_to_the_liaison(client, personas, township, accepted):
    kept = _activity(township, personas["office"])
    client.force_login(personas["liaison"])
    page = client.get(reverse("activities:detail", args=[kept.pk])).content.decode()
    assert "已锁定" in page
    assert reverse("activities:edit", args=[kept.pk]) not in page
    response = client.get(reverse("activities:edit", args=[kept.pk]))
    assert response.status_code == 302
    client.force_login(personas["office"])
    page = client.get(reverse("activities:detail", args=[kept.pk])).content.decode()
    assert reverse("activities:edit", args=[kept.pk]) in page
