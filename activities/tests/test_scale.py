"""Scale activities at a tiny size: every activity adds up and every 慰问金 is one ledger row."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from activities.constants import EARLY_OCCASIONS
from activities.models import Activity, Gift, Recipient, RecipientGroup
from activities.scale import build_activities, describe, wipe_activities
from beneficiaries.constants import PaymentKind, PayMethod
from beneficiaries.models import Beneficiary, Payment
from conftest import valid_id_number
from units.constants import MILITARY_KINDS
from units.models import Unit

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def registry(township, village, other_township, person):
    people = [person]
    for n in range(12):
        place = township if n % 2 else other_township
        people.append(
            Beneficiary.objects.create(
                name=f"测试{n}",
                name_initials="cs",
                id_number=valid_id_number(f"320481196001{10 + n:02d}{100 + n:03d}"),
                sex="男",
                birth_date=datetime.date(1960, 1, 1),
                township=place,
            )
        )
    return people


@pytest.fixture
def built(county, registry, bureau, military_unit, fire_brigade, pairing, office, liaison):
    return build_activities(county, count=120, seed=7, today=TODAY)


def _sum(queryset, field):
    return queryset.aggregate(s=Sum(field))["s"] or Decimal(0)


def test_every_activity_adds_up_as_the_services_would_keep_it(built, county):
    activities = list(Activity.objects.all())
    assert len(activities) == built["双拥活动"] == 120
    for activity in activities:
        gifts, groups, visits = activity.gifts.all(), activity.groups.all(), activity.recipients.all()
        assert activity.money == _sum(gifts, "money") + _sum(groups, "money") + _sum(visits, "amount")
        assert activity.goods_value == _sum(gifts, "goods_value") + _sum(groups, "goods_value") + _sum(
            visits, "goods_value"
        )
        assert activity.recipient_count == visits.count() + (groups.aggregate(s=Sum("people"))["s"] or 0)
        assert activity.start_date <= TODAY and activity.start_date.year in (2025, 2026)
        assert activity.end_date is None or activity.start_date < activity.end_date <= TODAY
        early = activity.occasion in EARLY_OCCASIONS and activity.start_date.month == 12
        assert activity.occasion_year == activity.start_date.year + early
        assert all(unit.kind in MILITARY_KINDS for unit in activity.military_units.all())
        assert activity.unit.path.startswith(county.path) and not activity.unit.is_military
        assert activity.history.count() == 1
    assert Gift.objects.exists() and RecipientGroup.objects.exists()
    kinds = Counter(a.type for a in activities)
    assert len(kinds) >= 10
    occasions = {a.occasion for a in activities}
    assert {"spring", "army_day"} <= occasions


def test_every_visit_pays_its_people_once_in_the_ledger(built):
    visits = list(Recipient.objects.select_related("activity", "payment", "beneficiary"))
    assert len(visits) == built["走访优抚对象（慰问金）"] > 10
    for visit in visits:
        payment, activity = visit.payment, visit.activity
        assert (payment.kind, payment.method, payment.batch_id, payment.beneficiary_id) == (
            PaymentKind.CONDOLENCE,
            PayMethod.CASH,
            None,
            visit.beneficiary_id,
        )
        assert payment.amount == visit.amount and payment.paid_on == activity.start_date
        assert payment.reference == f"activity:{activity.pk}"
        assert payment.township_id == visit.beneficiary.township_id
    assert Payment.objects.filter(reference__startswith="activity:").count() == len(visits)
    per_occasion = Counter(
        (v.beneficiary_id, v.activity.occasion, v.activity.occasion_year) for v in visits if v.activity.occasion
    )
    assert max(per_occasion.values()) == 1


def test_the_same_seed_gives_the_same_activities(county, registry, military_unit, office):
    first = build_activities(county, count=30, seed=3, today=TODAY)
    rows = list(Activity.objects.order_by("pk").values_list("unit", "type", "start_date", "money"))
    wipe_activities(Unit.objects.filter(path__startswith=county.path))
    assert not Activity.objects.exists() and not Payment.objects.filter(reference__startswith="activity:").exists()
    assert build_activities(county, count=30, seed=3, today=TODAY) == first
    assert list(Activity.objects.order_by("pk").values_list("unit", "type", "start_date", "money")) == rows
    assert describe(first, 1.0)[0].strip().startswith("30  双拥活动")


def test_activities_only_needs_a_generated_profile(db):
    with pytest.raises(CommandError, match="不存在"):
        call_command("seed_scale", "--profile", "county", "--activities-only")
