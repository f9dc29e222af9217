"""The demo's activities: the seeds' shape, each 慰问金 in the ledger once, nothing in the future, idempotent."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from activities import selectors, services
from activities.constants import ActivityType, BudgetSource, Occasion
from activities.demo import demo_photo, demo_specs
from activities.models import Activity, BudgetLine, Gift, Photo, Recipient, RecipientGroup
from beneficiaries.constants import PaymentKind, PayMethod
from beneficiaries.models import Payment
from shuangyong.lib.money import format_yuan
from units.models import UnitPlan

TODAY = datetime.datetime(2026, 8, 20, 10, 0)


def _counts():
    return (
        Activity.objects.count(),
        Gift.objects.count(),
        RecipientGroup.objects.count(),
        Recipient.objects.count(),
        Photo.objects.count(),
        Payment.objects.filter(kind=PaymentKind.CONDOLENCE).count(),
        UnitPlan.objects.count(),
        BudgetLine.objects.count(),
    )


@pytest.fixture(scope="module")
def seeded(module_db):
    """The demo seeded twice (the second run must change nothing); the module's tests run on the day of seeding."""
    with time_machine.travel(TODAY):
        call_command("seed_demo")
        first = _counts()
        call_command("seed_demo")
        yield first, _counts()


def test_the_specs_are_in_order_and_the_photos_are_small_jpegs():
    specs = demo_specs(2025)
    assert [s.day for s in specs] == sorted(s.day for s in specs)
    assert len({(s.unit, s.day, s.title) for s in specs}) == len(specs)
    data = demo_photo("seed")
    assert data.startswith(b"\xff\xd8") and len(data) < 200_000
    assert demo_photo("seed") == data


def test_seeding_twice_changes_nothing(seeded):
    first, second = seeded
    assert first == second
    assert first[0] > 80


def test_each_visit_pays_its_recipients_once_in_the_ledger(seeded):
    recipients = list(Recipient.objects.select_related("activity", "payment"))
    assert len(recipients) > 40
    for recipient in recipients:
        rows = list(services.recipient_payments(recipient=recipient))
        assert [row.pk for row in rows] == [recipient.payment_id]
        (row,) = rows
        activity = recipient.activity
        assert (row.amount, row.kind, row.method, row.paid_on, row.batch_id) == (
            recipient.amount,
            PaymentKind.CONDOLENCE,
            PayMethod.CASH,
            activity.start_date,
            None,
        )
        assert row.reference == f"activity:{activity.pk}"
        assert row.beneficiary.township.parent.name == "示例县"
    ledger = Payment.objects.filter(reference__startswith="activity:")
    assert ledger.count() == len(recipients)
    # Nobody is given 慰问金 twice for one occasion of one year.
    per_occasion = Counter((r.beneficiary_id, r.activity.occasion, r.activity.occasion_year) for r in recipients)
    assert max(per_occasion.values()) == 1


def test_totals_are_what_each_activity_gave_and_nothing_is_in_the_future(seeded):
    today = TODAY.date()
    for activity in Activity.objects.all():
        parts = [activity.gifts, activity.groups]
        money = sum((p.aggregate(s=Sum("money"))["s"] or Decimal(0) for p in parts), Decimal(0))
        money += activity.recipients.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert activity.money == money, activity.title
        assert activity.start_date <= today and (activity.end_date or activity.start_date) <= today
        assert activity.created_at.date() <= today and activity.start_date.year in (2025, 2026)
        assert activity.photo_count == activity.photos.filter(is_removed=False).count()
    assert not Activity.objects.filter(start_date__gt=today).exists()
    # The 2026 work after the day of seeding is not there yet; the 八一 campaign of 2026 is.
    assert not Activity.objects.filter(title="2026年全民国防教育日主题宣传").exists()
    assert Activity.objects.filter(title="2026年“八一”走访慰问", unit__name="示例县").exists()


def test_the_demo_has_the_seeds_shape(seeded):
    lidong = Activity.objects.filter(unit__name="溧东镇", start_date__year=2025)
    assert lidong.filter(type=ActivityType.PUBLICITY).aggregate(n=Sum("boards"))["n"] == 6
    assert lidong.filter(type=ActivityType.MEETING).count() == 2
    assert lidong.aggregate(n=Sum("info_items"))["n"] == 24
    county = Activity.objects.filter(unit__name="示例县", start_date__year=2025)
    assert county.filter(type=ActivityType.MEETING).count() == 2
    conscription = county.filter(type=ActivityType.CONSCRIPTION).aggregate(
        applied=Sum("enlist_applied"), passed=Sum("enlist_passed"), final=Sum("enlist_final")
    )
    assert conscription["applied"] > conscription["passed"] > conscription["final"] > 0
    training = Activity.objects.get(type=ActivityType.TRAINING, start_date__year=2025)
    assert training.training_schools == 3 and training.training_students > 1000
    assert training.pairings.get().military_unit.name == "预备役防化营"
    assert Activity.objects.filter(photo_count__gt=0, pairings__isnull=False).count() >= 4
    assert Activity.objects.filter(unit__parent__name="溧东镇").exists()  # the villages of the liaison's township
    # The county's 八一 campaign: troops and enterprises given money, registry people and groups visited.
    campaign = Activity.objects.get(title="2025年“八一”走访慰问", unit__name="示例县")
    assert campaign.gifts.filter(recipient_unit__kind="military").count() >= 6
    assert campaign.gifts.filter(recipient_unit__isnull=True).count() == 4
    assert campaign.recipients.count() == 3 and campaign.groups.count() == 2
    assert campaign.military_units.count() == 8
    assert UnitPlan.objects.filter(year=2026, unit__name="溧东镇").get().targets.count() == 4
    assert BudgetLine.objects.filter(year=2026, unit__name="示例县", source=BudgetSource.DONATION).exists()


def test_the_office_sees_the_八一_campaign_with_its_合计(seeded, client):
    office = get_user_model().objects.get(username="ganshi")
    summary = selectors.occasion_summary(user=office, year=2025, occasion=Occasion.ARMY_DAY)
    expected = Activity.objects.filter(occasion=Occasion.ARMY_DAY, occasion_year=2025).aggregate(s=Sum("money"))["s"]
    assert summary["totals"]["money"] == expected
    client.force_login(office)
    page = client.get(reverse("activities:occasion", args=[2025, Occasion.ARMY_DAY])).content.decode()
    assert format_yuan(expected) in page
    log = client.get(reverse("activities:list")).content.decode()
    assert "2026年“八一”走访慰问" in log


def test_the_liaison_sees_only_the_township_s_activities(seeded, client):
    client.force_login(get_user_model().objects.get(username="lidong"))
    log = client.get(reverse("activities:list") + "?year=2025").content.decode()
    assert "2025年第1期拥军板报" in log
    assert "2025年高一新生军训" not in log
