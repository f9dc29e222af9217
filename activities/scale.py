"""Activities for the scale profiles of seed_scale, inserted in bulk: 3,000 for a county, 80,000 for a province.

Spread over the tree's civil units (townships most, villages and bureaus less), the types, the occasions and two
years up to today. Visits give money to the county's troops (gifts), to groups outside the registry and to
registry people, whose 慰问金 is a Payment row in the ledger (kind 慰问金, cash, paid on the visit date, reference
“activity:<pk>”). The totals the services keep on an activity (money, goods_value, recipient_count) are set
from the same rows, so that every activity adds up as if it had been entered through the form.
"""

import datetime
import random
import time
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from beneficiaries.constants import PaymentKind, PayMethod, Status
from beneficiaries.models import Beneficiary, Payment
from shuangyong.lib.money import ZERO
from units.constants import MILITARY_KINDS, Role, UnitKind
from units.models import Membership, Pairing, Unit

from .constants import ActivityType, Occasion
from .importers import save_history
from .models import Activity, Gift, Photo, Recipient, RecipientGroup
from .services import occasion_year_of

COUNTS = {"county": 3_000, "province": 80_000}
CHUNK = 5_000  # activities built and inserted at a time
BULK = 1_000

UNIT_WEIGHTS = {
    UnitKind.PROVINCE: 20,
    UnitKind.CITY: 12,
    UnitKind.COUNTY: 12,
    UnitKind.TOWNSHIP: 8,
    UnitKind.VILLAGE: 0.6,
    UnitKind.DEPARTMENT: 1.5,
    UnitKind.MASS_ORG: 1.5,
    UnitKind.SCHOOL: 1,
    UnitKind.HOSPITAL: 1,
    UnitKind.ENTERPRISE: 0.5,
}
TYPE_WEIGHTS = {
    ActivityType.VISIT: 22,
    ActivityType.PUBLICITY: 14,
    ActivityType.INFORMATION: 10,
    ActivityType.MEETING: 8,
    ActivityType.DEFENSE_EDUCATION: 7,
    ActivityType.JOINT: 7,
    ActivityType.FORUM: 5,
    ActivityType.FELLOWSHIP: 4,
    ActivityType.CONSCRIPTION: 4,
    ActivityType.ASSISTANCE: 4,
    ActivityType.SUPPORT_GOVERNMENT: 3,
    ActivityType.COMMENDATION: 2,
    ActivityType.MEDICAL: 2,
    ActivityType.LEGAL: 2,
    ActivityType.TRAINING: 2,
    ActivityType.PLACEMENT: 1,
    ActivityType.OTHER: 3,
}
# When visits are made: (occasion, weight, first day (month, day), days in the window).
VISIT_WINDOWS = [
    (Occasion.SPRING_FESTIVAL, 35, (1, 10), 30),
    (Occasion.ARMY_DAY, 40, (7, 15), 17),
    (Occasion.NEW_YEAR, 8, (12, 20), 11),
    (Occasion.NATIONAL_DAY, 10, (9, 22), 8),
    (Occasion.NONE, 7, (3, 1), 200),
]
TITLES = {
    ActivityType.VISIT: "走访慰问",
    ActivityType.PUBLICITY: "拥军题材板报及宣传",
    ActivityType.INFORMATION: "双拥信息报送",
    ActivityType.MEETING: "双拥工作领导小组会议",
    ActivityType.DEFENSE_EDUCATION: "国防教育活动",
    ActivityType.JOINT: "军民共建活动",
    ActivityType.FORUM: "军地座谈会",
    ActivityType.FELLOWSHIP: "军民联谊活动",
    ActivityType.CONSCRIPTION: "征兵宣传动员",
    ActivityType.ASSISTANCE: "困难军属帮扶",
    ActivityType.SUPPORT_GOVERNMENT: "驻地官兵助民活动",
    ActivityType.COMMENDATION: "双拥先进评选表彰",
    ActivityType.MEDICAL: "为官兵义诊体检",
    ActivityType.LEGAL: "送法进军营",
    ActivityType.TRAINING: "学生军训",
    ActivityType.PLACEMENT: "退役军人就业安置",
    ActivityType.OTHER: "光荣牌悬挂",
}
GROUPS = ["军队离退休干部", "困难退役士兵", "驻地官兵家属", "困难群众", "好军嫂", "复退军人较集中企业职工"]
GOODS = ["米、油", "慰问品", "防暑降温用品", "年货", "书籍", "被褥"]
JOINED_TYPES = (ActivityType.JOINT, ActivityType.FELLOWSHIP, ActivityType.MEDICAL, ActivityType.LEGAL)


def _yuan(rng, low, high, step=100):
    return Decimal(rng.randrange(low // step, high // step + 1) * step).quantize(Decimal("0.01"))


class ActivityBuilder:
    """Build the activities of one scale tree; `build()` inserts them and returns the counts."""

    def __init__(self, root, *, count, seed=2026, today=None, log=None):
        self.root = root
        self.count = count
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self.first = datetime.date(self.today.year - 1, 1, 1)
        self.log = log or (lambda message: None)
        self.counts = Counter()
        units = list(Unit.objects.filter(path__startswith=root.path, is_active=True).order_by("path"))
        self.by_pk = {unit.pk: unit for unit in units}
        self.civil = [unit for unit in units if unit.kind in UNIT_WEIGHTS]
        self.weights = [UNIT_WEIGHTS[unit.kind] for unit in self.civil]
        self.forces = defaultdict(list)  # region pk -> its military units and partner forces
        for unit in units:
            if unit.kind in MILITARY_KINDS and unit.parent_id:
                self.forces[unit.parent_id].append(unit)
        self.pairings = defaultdict(list)
        for pairing in Pairing.objects.filter(civil_unit__path__startswith=root.path, ended_on__isnull=True):
            self.pairings[pairing.civil_unit_id].append(pairing)
        self.offices = dict(
            Membership.objects.filter(unit__path__startswith=root.path, role__in=[Role.OFFICE, Role.LIAISON])
            .order_by("role")
            .values_list("unit", "user")
        )
        self.people = defaultdict(list)  # township pk -> [(person pk, township pk)]
        people = Beneficiary.objects.filter(township__path__startswith=root.path, status=Status.ACTIVE)
        for pk, township in people.order_by("pk").values_list("pk", "township_id"):
            self.people[township].append(pk)
        self.visited = set()  # (person, occasion, occasion year): one 慰问金 per occasion and year

    # ---- where a unit stands ---------------------------------------------------------------------------
    def chain(self, unit):
        """The unit and the units above it, nearest first."""
        ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        return [self.by_pk[i] for i in reversed(ids) if i in self.by_pk]

    def region(self, unit):
        return next((u for u in self.chain(unit) if u.kind in UNIT_WEIGHTS and u.kind != UnitKind.VILLAGE), unit)

    def forces_of(self, unit):
        """The troops an activity of the unit visits: those placed under its county (or the nearest region)."""
        for above in self.chain(unit):
            if self.forces.get(above.pk):
                return self.forces[above.pk]
        return []

    def townships_of(self, unit):
        """Townships whose registry people an activity of the unit may visit."""
        if unit.kind == UnitKind.TOWNSHIP:
            return [unit.pk]
        if unit.kind == UnitKind.VILLAGE:
            return [unit.parent_id]
        if unit.kind == UnitKind.COUNTY:
            return [pk for pk in self.people if self.by_pk[pk].parent_id == unit.pk]
        return []

    def recorder(self, unit):
        return next((self.offices[u.pk] for u in self.chain(unit) if u.pk in self.offices), None)

    # ---- one activity ----------------------------------------------------------------------------------
    def day(self):
        span = (self.today - self.first).days
        return self.first + datetime.timedelta(days=self.rng.randrange(span + 1))

    def visit_day(self):
        occasion, _, (month, day), days = self.rng.choices(VISIT_WINDOWS, [w[1] for w in VISIT_WINDOWS])[0]
        for year in (self.today.year - self.rng.randint(0, 1), self.today.year - 1):
            start = datetime.date(year, month, day) + datetime.timedelta(days=self.rng.randrange(days))
            if start <= self.today:
                return occasion, start
        return occasion, self.day()

    def occasion_of(self, kind, start):
        if kind == ActivityType.CONSCRIPTION:
            return Occasion.CONSCRIPTION
        if kind == ActivityType.DEFENSE_EDUCATION and start.month == 9:
            return Occasion.DEFENSE_DAY
        if kind in (ActivityType.FORUM, ActivityType.FELLOWSHIP, ActivityType.COMMENDATION):
            if (start.month, start.day) >= (7, 15) and start.month == 7:
                return Occasion.ARMY_DAY
            if start.month in (1, 2):
                return Occasion.SPRING_FESTIVAL
        return Occasion.NONE

    def counts_for(self, kind):
        rng = self.rng
        if kind == ActivityType.PUBLICITY:
            return {
                "boards": rng.randint(1, 2),
                "slogans": rng.choice([0, 0, 4, 10]),
                "banners": rng.randint(0, 4),
                "broadcasts": rng.randint(0, 3),
                "info_items": rng.randint(0, 2),
            }
        if kind == ActivityType.DEFENSE_EDUCATION:
            return {"lectures": rng.randint(1, 3), "boards": rng.randint(0, 3), "banners": rng.randint(0, 5)}
        if kind == ActivityType.INFORMATION:
            return {"info_items": rng.randint(1, 6)}
        if kind == ActivityType.CONSCRIPTION:
            applied = rng.randint(8, 80)
            passed = applied * rng.randint(30, 50) // 100
            return {
                "enlist_applied": applied,
                "enlist_passed": passed,
                "enlist_final": passed * rng.randint(50, 80) // 100,
            }
        if kind == ActivityType.TRAINING:
            return {"training_schools": rng.randint(1, 4), "training_students": rng.randint(150, 1800)}
        if kind == ActivityType.PLACEMENT:
            return {
                "placed_officers": rng.randint(0, 2),
                "placed_soldiers": rng.randint(1, 8),
                "placed_spouses": rng.randint(0, 2),
            }
        if kind == ActivityType.LEGAL:
            return {"lectures": 1}
        if kind == ActivityType.ASSISTANCE and rng.random() < 0.3:
            return {"children_enrolled": rng.randint(1, 6)}
        if kind == ActivityType.OTHER:
            return {"plaques_hung": rng.randint(2, 20), "merit_notices": rng.randint(0, 3)}
        if kind == ActivityType.VISIT and rng.random() < 0.1:
            return {"merit_notices": rng.randint(1, 3)}
        return {}

    def activity(self, unit):
        rng = self.rng
        kind = rng.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0]
        if kind == ActivityType.VISIT:
            occasion, start = self.visit_day()
        else:
            start = self.day()
            occasion = self.occasion_of(kind, start)
        end = None
        if rng.random() < 0.25:
            end = min(start + datetime.timedelta(days=rng.randint(1, 5)), self.today)
            end = end if end > start else None
        year = occasion_year_of(occasion, start)
        label = Occasion(occasion).label if occasion else ""
        participants = rng.randint(5, 60) if kind not in (ActivityType.INFORMATION,) else rng.randint(1, 3)
        activity = Activity(
            unit=unit,
            type=kind,
            occasion=occasion,
            occasion_year=year,
            start_date=start,
            end_date=end,
            place=self.region(unit).name.removeprefix("规模测试"),
            title=f"{year}年{label}{TITLES[kind]}",
            description=f"{unit.name}组织开展{ActivityType(kind).label}活动。",
            participants=participants,
            soldiers=rng.randint(5, 80)
            if kind in (*JOINED_TYPES, ActivityType.FORUM, ActivityType.SUPPORT_GOVERNMENT)
            else 0,
            cost=_yuan(rng, 0, 5000) if rng.random() < 0.3 else ZERO,
            imported=False,
            created_by_id=self.recorder(unit),
            **self.counts_for(kind),
        )
        parts = {"gifts": [], "groups": [], "recipients": [], "military": set(), "pairing": None}
        forces = self.forces_of(unit)
        if kind == ActivityType.VISIT:
            if forces and rng.random() < 0.6:
                for force in rng.sample(forces, min(len(forces), rng.randint(1, 3))):
                    goods = rng.random() < 0.5
                    parts["gifts"].append(
                        Gift(
                            recipient_unit=force,
                            money=_yuan(rng, 1000, 20000),
                            goods=rng.choice(GOODS) if goods else "",
                            goods_value=_yuan(rng, 500, 3000) if goods else ZERO,
                        )
                    )
                    parts["military"].add(force.pk)
            if rng.random() < 0.1:
                parts["gifts"].append(Gift(recipient_name="复退军人较集中的困难企业", money=_yuan(rng, 2000, 10000)))
            if rng.random() < 0.4:
                parts["groups"].append(self.group())
            townships = self.townships_of(unit)
            if townships and rng.random() < 0.7:
                parts["recipients"] = self.recipients(townships, occasion, year)
        elif kind in (ActivityType.FORUM, ActivityType.COMMENDATION, ActivityType.ASSISTANCE) and rng.random() < 0.4:
            parts["groups"].append(self.group())
        if kind in JOINED_TYPES or (kind == ActivityType.SUPPORT_GOVERNMENT and forces):
            paired = self.pairings.get(unit.pk)
            if paired:
                parts["pairing"] = rng.choice(paired)
                parts["military"].add(parts["pairing"].military_unit_id)
            elif forces:
                parts["military"].add(rng.choice(forces).pk)
        given = parts["gifts"] + parts["groups"]
        activity.money = sum((p.money for p in given), ZERO) + sum((r[1] for r in parts["recipients"]), ZERO)
        activity.goods_value = sum((p.goods_value for p in given), ZERO) + sum(
            (r[3] for r in parts["recipients"]), ZERO
        )
        activity.recipient_count = len(parts["recipients"]) + sum(g.people for g in parts["groups"])
        activity.reached = activity.recipient_count
        activity.photo_count = 0
        return activity, parts

    def group(self):
        people = self.rng.randint(3, 30)
        goods = self.rng.random() < 0.3
        return RecipientGroup(
            description=self.rng.choice(GROUPS),
            people=people,
            money=Decimal(people * self.rng.choice([100, 200, 300, 500])).quantize(Decimal("0.01")),
            goods=self.rng.choice(GOODS) if goods else "",
            goods_value=Decimal(people * 50).quantize(Decimal("0.01")) if goods else ZERO,
        )

    def recipients(self, townships, occasion, year):
        """[(person, township, amount, goods value, goods)] of people not yet given 慰问金 this occasion and year."""
        chosen = []
        for _ in range(self.rng.randint(2, 8)):
            township = self.rng.choice(townships)
            pool = self.people.get(township)
            if not pool:
                continue
            person = self.rng.choice(pool)
            key = (person, occasion, year)
            if occasion and key in self.visited:
                continue
            if any(person == row[0] for row in chosen):
                continue
            self.visited.add(key)
            goods = self.rng.random() < 0.4
            amount = _yuan(self.rng, 200, 800)
            chosen.append((person, amount, "米、油" if goods else "", Decimal("100.00") if goods else ZERO, township))
        return chosen

    # ---- writing ---------------------------------------------------------------------------------------
    def build(self):
        started = time.perf_counter()
        if not self.civil:
            return self.counts
        with transaction.atomic():
            done = 0
            while done < self.count:
                size = min(CHUNK, self.count - done)
                units = self.rng.choices(self.civil, self.weights, k=size)
                self.write([self.activity(unit) for unit in units])
                done += size
                self.log(f"  双拥活动：{done:,} 项，{time.perf_counter() - started:.0f} 秒")
        return self.counts

    def write(self, built):
        activities = [activity for activity, _ in built]
        Activity.objects.bulk_create(activities, batch_size=BULK)
        gifts, groups, joined, paired, payments, visits = [], [], [], [], [], []
        for activity, parts in built:
            for gift in parts["gifts"]:
                gift.activity = activity
                gifts.append(gift)
            for group in parts["groups"]:
                group.activity = activity
                groups.append(group)
            joined += [(activity.pk, pk) for pk in sorted(parts["military"])]
            if parts["pairing"] is not None:
                paired.append((activity.pk, parts["pairing"].pk))
            occasion = Occasion(activity.occasion).label if activity.occasion else ""
            purpose = f"{activity.occasion_year}年{occasion}{ActivityType(activity.type).label}"
            for person, amount, goods, goods_value, township in parts["recipients"]:
                payment = Payment(
                    beneficiary_id=person,
                    township_id=township,
                    kind=PaymentKind.CONDOLENCE,
                    month=activity.start_date.replace(day=1),
                    months=1,
                    amount=amount,
                    reference=f"activity:{activity.pk}",
                    purpose=purpose,
                    method=PayMethod.CASH,
                    paid_on=activity.start_date,
                    created_by_id=activity.created_by_id,
                )
                payments.append(payment)
                visits.append(
                    Recipient(
                        activity=activity,
                        beneficiary_id=person,
                        amount=amount,
                        goods=goods,
                        goods_value=goods_value,
                        payment=payment,
                        created_by_id=activity.created_by_id,
                    )
                )
        Gift.objects.bulk_create(gifts, batch_size=BULK)
        RecipientGroup.objects.bulk_create(groups, batch_size=BULK)
        military = Activity.military_units.through
        military.objects.bulk_create([military(activity_id=a, unit_id=u) for a, u in joined], batch_size=BULK)
        pairings = Activity.pairings.through
        pairings.objects.bulk_create([pairings(activity_id=a, pairing_id=p) for a, p in paired], batch_size=BULK)
        Payment.objects.bulk_create(payments, batch_size=BULK)
        for visit in visits:
            visit.payment_id = visit.payment.pk
        Recipient.objects.bulk_create(visits, batch_size=BULK)
        save_history(
            activities,
            when=lambda a: timezone.make_aware(
                datetime.datetime.combine(a.end_date or a.start_date, datetime.time(17))
            ),
        )
        self.counts["双拥活动"] += len(activities)
        self.counts["慰问单位"] += len(gifts)
        self.counts["慰问群体"] += len(groups)
        self.counts["走访优抚对象（慰问金）"] += len(visits)


def build_activities(root, *, count, seed=2026, today=None, log=None):
    """Add `count` activities to the scale tree under `root`; return the counts."""
    return ActivityBuilder(root, count=count, seed=seed, today=today, log=log).build()


def describe(counts, elapsed):
    """Lines for seed_scale's report."""
    lines = [f"  {counts['双拥活动']:>9,}  双拥活动（用时 {elapsed:.1f} 秒），其中："]
    for label in ("慰问单位", "慰问群体", "走访优抚对象（慰问金）"):
        lines.append(f"  {counts[label]:>9,}    {label}")
    return lines


def wipe_activities(units):
    """Raw-delete the activities of these units with their parts and ledger rows (no history rows written)."""
    activities = Activity.objects.filter(unit__in=units)
    ids = activities.values("pk")
    visits = Recipient.objects.filter(activity__in=ids)
    payments = list(visits.exclude(payment__isnull=True).values_list("payment_id", flat=True))
    visits._raw_delete(Recipient.objects.db)
    for start in range(0, len(payments), BULK):
        Payment.objects.filter(pk__in=payments[start : start + BULK])._raw_delete(Payment.objects.db)
    Payment.objects.filter(reference__startswith="activity:", township__in=units)._raw_delete(Payment.objects.db)
    Gift.objects.filter(activity__in=ids)._raw_delete(Gift.objects.db)
    RecipientGroup.objects.filter(activity__in=ids)._raw_delete(RecipientGroup.objects.db)
    Photo.objects.filter(activity__in=ids)._raw_delete(Photo.objects.db)
    Activity.military_units.through.objects.filter(activity__in=ids)._raw_delete(Activity.objects.db)
    Activity.pairings.through.objects.filter(activity__in=ids)._raw_delete(Activity.objects.db)
    Activity.history.filter(unit_id__in=units.values("pk"))._raw_delete(Activity.history.db)
    return activities._raw_delete(Activity.objects.db)
