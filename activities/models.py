from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from shuangyong.lib.money import MoneyField
from units import permissions
from units.constants import Role

from .constants import ActivityType, BudgetSource, Occasion

EDITORS = [Role.OFFICE, Role.LIAISON]


def _count(label):
    return models.PositiveIntegerField(label, default=0)


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=EDITORS))


class Activity(models.Model):
    unit = models.ForeignKey("units.Unit", verbose_name="组织单位", on_delete=models.PROTECT, related_name="activities")
    type = models.CharField("活动类型", max_length=20, choices=ActivityType.choices)
    occasion = models.CharField("时机", max_length=20, choices=Occasion.choices, blank=True, default="")
    # The year an occasion belongs to: 春节 visits in December count for the next year's 春节.
    occasion_year = models.PositiveSmallIntegerField("节日年度", editable=False)
    start_date = models.DateField("日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    place = models.CharField("地点", max_length=100, blank=True)
    title = models.CharField("标题", max_length=100)
    description = models.TextField("活动内容", blank=True)
    leaders = models.CharField("参加领导", max_length=200, blank=True)
    participants = _count("参加人数")
    soldiers = _count("官兵人数")
    reached = _count("受益（慰问）人数")
    cost = MoneyField("活动经费（元）", default=0)
    military_units = models.ManyToManyField(
        "units.Unit", verbose_name="参与部队", blank=True, related_name="joint_activities"
    )
    pairings = models.ManyToManyField("units.Pairing", verbose_name="共建对子", blank=True, related_name="activities")
    # Type-specific counts (activities.constants.COUNT_FIELDS).
    boards = _count("板报")
    slogans = _count("标语")
    banners = _count("横幅")
    lectures = _count("讲座")
    broadcasts = _count("广播")
    info_items = _count("信息")
    enlist_applied = _count("报名")
    enlist_passed = _count("体检合格")
    enlist_final = _count("定兵")
    placed_officers = _count("安置转业干部")
    placed_soldiers = _count("安置退役士兵")
    placed_spouses = _count("安置随军家属")
    training_schools = _count("参训学校")
    training_students = _count("参训学生")
    children_enrolled = _count("军人子女入学")
    plaques_hung = _count("光荣牌悬挂")
    merit_notices = _count("立功喜报送达")
    # Kept by activities.services from the gifts, recipients and groups: what the activity gave, each yuan once.
    money = MoneyField("慰问金额（元）", default=0, editable=False)
    goods_value = MoneyField("物品折价（元）", default=0, editable=False)
    recipient_count = models.PositiveIntegerField("慰问对象人数", default=0, editable=False)
    photo_count = models.PositiveSmallIntegerField("照片数", default=0, editable=False)
    imported = models.BooleanField("历史导入", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["version"])

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = "双拥活动"
        verbose_name_plural = "双拥活动"
        ordering = ["-start_date", "-pk"]
        indexes = [
            models.Index(fields=["start_date", "unit"]),
            models.Index(fields=["occasion_year", "occasion"]),
            models.Index(fields=["type", "start_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="activity_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.start_date:%Y-%m-%d} {self.title}"

    def get_absolute_url(self):
        return reverse("activities:detail", args=[self.pk])

    @property
    def total_value(self):
        return self.money + self.goods_value


class Gift(models.Model):
    """Money or goods given to a unit: a company, a school, an enterprise."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="gifts")
    recipient_unit = models.ForeignKey(
        "units.Unit", verbose_name="受赠单位", null=True, blank=True, on_delete=models.PROTECT, related_name="gifts"
    )
    recipient_name = models.CharField("受赠单位名称", max_length=100, blank=True)
    money = MoneyField("慰问金（元）", default=0)
    goods = models.CharField("物品", max_length=200, blank=True)
    goods_value = MoneyField("物品折价（元）", default=0)

    class Meta:
        verbose_name = "慰问单位"
        verbose_name_plural = "慰问单位"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_unit__isnull=False) | ~Q(recipient_name=""), name="gift_has_recipient"
            ),
        ]

    def __str__(self):
        return self.recipient_unit.name if self.recipient_unit_id else self.recipient_name


class RecipientGroup(models.Model):
    """People outside the registry reached as a group: 军退干部, 困难群众, 驻地官兵 ..."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="groups")
    description = models.CharField("慰问群体", max_length=100)
    people = models.PositiveIntegerField("人数")
    money = MoneyField("慰问金（元）", default=0)
    goods = models.CharField("物品", max_length=200, blank=True)
    goods_value = MoneyField("物品折价（元）", default=0)

    class Meta:
        verbose_name = "慰问群体"
        verbose_name_plural = "慰问群体"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.description} {self.people}人"


class Recipient(models.Model):
    """A registry person visited: the money is a 慰问金 payment in the ledger (amount = its rows' sum)."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="recipients")
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="慰问对象", on_delete=models.PROTECT, related_name="visits"
    )
    amount = MoneyField("慰问金（元）", default=0)
    goods = models.CharField("物品", max_length=200, blank=True)
    goods_value = MoneyField("物品折价（元）", default=0)
    payment = models.OneToOneField(
        "beneficiaries.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "走访对象"
        verbose_name_plural = "走访对象"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "beneficiary"],
                name="one_visit_per_person_and_activity",
                violation_error_message="此人已在本次活动的慰问对象中。",
            ),
        ]

    def __str__(self):
        return f"{self.activity} {self.beneficiary_id}"


class Photo(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="photos")
    image = models.FileField(upload_to="activity-photos/%Y/%m/")
    thumbnail = models.FileField(upload_to="activity-photos/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    caption = models.CharField("说明", max_length=100, blank=True)
    is_removed = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "活动照片"
        verbose_name_plural = "活动照片"
        ordering = ["pk"]

    def __str__(self):
        return self.original_name


class BudgetQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))


class BudgetLine(models.Model):
    """The year's 双拥经费 of a unit (normally the county), by source."""

    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="budget_lines")
    year = models.PositiveSmallIntegerField("年度")
    source = models.CharField("经费来源", max_length=20, choices=BudgetSource.choices)
    amount = MoneyField("金额（元）")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = BudgetQuerySet.as_manager()

    class Meta:
        verbose_name = "双拥经费"
        verbose_name_plural = "双拥经费"
        ordering = ["year", "unit", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "source"],
                name="one_budget_line_per_source",
                violation_error_message="该单位该年度此来源的经费已登记，请修改原记录。",
            ),
        ]

    def __str__(self):
        return f"{self.unit} {self.year} {self.get_source_display()}"
