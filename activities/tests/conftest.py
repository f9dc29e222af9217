import datetime

import pytest

from activities import services
from activities.constants import ActivityType


def joint_activity(unit, created_by, title="军民共建植树"):
    """A 军民共建 activity of the unit that began on 2026-03-12."""
    return services.activity_create(
        unit=unit, created_by=created_by, type=ActivityType.JOINT, title=title, start_date=datetime.date(2026, 3, 12)
    )


@pytest.fixture
def activity(office, township):
    return joint_activity(township, office)
