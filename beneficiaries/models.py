from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from shuangyong.lib.money import MoneyField
from units import permissions
from units.constants import Role

from .constants import (
    ONE_OFF_KINDS,
    REGULAR_KINDS,
    VARIANT_CHOICES,
    AccessKind,
    AwardLevel,
    Basis,
    BatchStatus,
    Category,
    ChangeKind,
    DeathCause,
    DisabilityGrade,
    DisabilityNature,
    ExceptionReason,
    PaymentKind,
    PayMethod,
    RecoveryStatus,
    ServiceArea,
    SettleMethod,
    Status,
    TransferStatus,
)

EDITORS = [Role.OFFICE, Role.LIAISON]


class BeneficiaryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "township__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "township__path", roles=EDITORS))


class Beneficiary(models.Model):
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, db_index=True, editable=False)
    id_number = models.CharField("居民身份证号", max_length=18, unique=True)
    sex = models.CharField("性别", max_length=1, editable=False)
    birth_date = models.DateField("出生日期", editable=False)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    township = models.ForeignKey(
        "units.Unit", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="beneficiaries"
    )
    village = models.ForeignKey(
        "units.Unit",
        verbose_name="村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="village_beneficiaries",
    )
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    cadre = models.CharField("包户责任人", max_length=50, blank=True)
    hardship_living = models.BooleanField("生活困难", default=False)
    hardship_housing = models.BooleanField("住房困难", default=False)
    hardship_medical = models.BooleanField("医疗困难", default=False)
    notes = models.TextField("备注", blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_since = models.DateField("状态起始日期", null=True, blank=True)
    confirmed_year = models.PositiveSmallIntegerField("最近年度确认年份", null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["name_initials", "version", "updated_at"])

    objects = BeneficiaryQuerySet.as_manager()

    class Meta:
        verbose_name = "优抚对象"
        verbose_name_plural = "优抚对象"
        ordering = ["township__path", "name", "pk"]
        permissions = [("reveal_personal_data", "可查看完整身份证号和银行账号")]
        indexes = [models.Index(fields=["township", "status"]), models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("beneficiaries:detail", args=[self.pk])


class EntitlementQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "beneficiary__township__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "beneficiary__township__path", roles=EDITORS))

    def current(self, on):
        return self.filter(Q(end_on__isnull=True) | Q(end_on__gte=on), start_on__lte=on)


class Entitlement(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="entitlements")
    category = models.CharField("优抚类别", max_length=2, choices=Category.choices, db_index=True)
    grade = models.PositiveSmallIntegerField("残疾等级", choices=DisabilityGrade.choices, null=True, blank=True)
    nature = models.CharField("残疾性质", max_length=10, choices=DisabilityNature.choices, blank=True)
    approval_document = models.CharField("批准文件", max_length=200, blank=True)
    document = models.FileField("批准文件扫描件", upload_to="entitlements/%Y/", blank=True)
    start_on = models.DateField("享受起始日期")
    end_on = models.DateField("享受终止日期", null=True, blank=True)
    service_years = models.PositiveSmallIntegerField("义务兵役年数", null=True, blank=True)
    serving_member_name = models.CharField("现役军人姓名", max_length=50, blank=True)
    enlistment_date = models.DateField("入伍日期", null=True, blank=True)
    service_area = models.CharField("服役地区", max_length=10, choices=ServiceArea.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        verbose_name = "优抚待遇资格"
        verbose_name_plural = "优抚待遇资格"
        ordering = ["start_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")), name="entitlement_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=1, grade__lte=10), name="entitlement_grade_1_to_10"
            ),
        ]

    def __str__(self):
        label = self.get_category_display()
        if self.grade:
            label += f"（{self.get_nature_display()}{self.get_grade_display()}）"
        return label


class Award(models.Model):
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="awards")
    level = models.CharField("奖励等级", max_length=10, choices=AwardLevel.choices)
    awarded_on = models.DateField("立功（受奖）日期")
    document = models.CharField("批准文件", max_length=200, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "立功受奖"
        verbose_name_plural = "立功受奖"
        ordering = ["awarded_on", "pk"]

    def __str__(self):
        return f"{self.get_level_display()} {self.awarded_on}"


class StatusChangeQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "beneficiary__township__path"))


class StatusChange(models.Model):
    """One 异动: never edited, corrected only by a later event."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField("异动类型", max_length=15, choices=ChangeKind.choices)
    effective_on = models.DateField("生效日期")
    reason = models.CharField("原因", max_length=300, blank=True)
    document = models.FileField("证明材料", upload_to="changes/%Y/", blank=True)
    document_name = models.CharField(max_length=200, blank=True)
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    new_grade = models.PositiveSmallIntegerField("调整后等级", choices=DisabilityGrade.choices, null=True, blank=True)
    new_nature = models.CharField("调整后性质", max_length=10, choices=DisabilityNature.choices, blank=True)
    year = models.PositiveSmallIntegerField("确认年度", null=True, blank=True)
    death_cause = models.CharField("死亡原因", max_length=10, choices=DeathCause.choices, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name="更正的异动"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "异动"
        verbose_name_plural = "异动"
        ordering = ["effective_on", "recorded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "year"],
                condition=Q(kind="confirm"),
                name="one_confirmation_per_year",
            )
        ]

    def __str__(self):
        return f"{self.beneficiary} {self.get_kind_display()} {self.effective_on}"


class TransferQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The sending side sees its transfers out; the receiving county sees those addressed to it."""
        return self.filter(
            permissions.scope_q(user, "from_township__path") | permissions.scope_q(user, "to_county__path")
        )


class Transfer(models.Model):
    """A move between two counties: 迁出 in A, pending until B records the 迁入."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="transfers")
    from_township = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    to_county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="迁入县（区）")
    to_township = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="迁入乡镇"
    )
    out_change = models.OneToOneField(StatusChange, on_delete=models.PROTECT, related_name="transfer_out")
    in_change = models.OneToOneField(
        StatusChange, null=True, blank=True, on_delete=models.PROTECT, related_name="transfer_in"
    )
    status = models.CharField("状态", max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = "跨县迁移"
        verbose_name_plural = "跨县迁移"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary"], condition=Q(status="pending"), name="one_pending_transfer_per_person"
            )
        ]

    def __str__(self):
        return f"{self.beneficiary} → {self.to_county}"


class ConfirmationRound(models.Model):
    """The office's 年度确认 deadline for a year; after it the unconfirmed are put on 停发."""

    county = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveSmallIntegerField("年度")
    deadline = models.DateField("截止日期")
    applied_at = models.DateTimeField("停发处理时间", null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "年度确认安排"
        verbose_name_plural = "年度确认安排"
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="one_confirmation_round_per_year")]

    def __str__(self):
        return f"{self.county} {self.year}年度确认"


class AccessLogQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))


class AccessLog(models.Model):
    """Who saw what personal data in full, or tried a number registered elsewhere."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey(Beneficiary, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=20, choices=AccessKind.choices)
    detail = models.CharField("说明", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "个人信息访问记录"
        verbose_name_plural = "个人信息访问记录"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.get_kind_display()}"


# Standards and payments


class StandardQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A unit's own standards and those of the offices above it (a county reads the province's table)."""
        paths = {path for path, _, _ in permissions.memberships(user)}
        above = {path[: index + 1] for path in paths for index, char in enumerate(path) if char == "/" and index}
        return self.filter(permissions.scope_q(user, "unit__path") | Q(unit__path__in=above))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))

    def in_force(self, on):
        return self.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on), effective_from__lte=on)


class Standard(models.Model):
    """An amount for (kind, category, grade, nature, variant) from a date, kept by an office for its jurisdiction."""

    unit = models.ForeignKey("units.Unit", verbose_name="制定单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("发放类别", max_length=12, choices=PaymentKind.choices)
    category = models.CharField("优抚类别", max_length=2, choices=Category.choices, blank=True)
    grade = models.PositiveSmallIntegerField("残疾等级", choices=DisabilityGrade.choices, null=True, blank=True)
    nature = models.CharField("残疾性质", max_length=10, choices=DisabilityNature.choices, blank=True)
    variant = models.CharField("细分", max_length=10, choices=VARIANT_CHOICES, blank=True)
    basis = models.CharField("计发方式", max_length=12, choices=Basis.choices, default=Basis.MONTH)
    amount = MoneyField("标准（元）")
    national_part = MoneyField("中央（国家）标准（元）", default=0)
    local_part = MoneyField("地方提标（元）", default=0)
    effective_from = models.DateField("执行起始日期")
    effective_to = models.DateField("执行截止日期", null=True, blank=True)
    payment_month = models.PositiveSmallIntegerField("年度发放月份", null=True, blank=True)
    cumulative = models.BooleanField("可与同类待遇叠加", default=False)
    prorate = models.BooleanField("不足一年按月折算", default=False)
    document = models.CharField("依据文件", max_length=200, blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="raises", verbose_name="调整前标准"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = "抚恤补助标准"
        verbose_name_plural = "抚恤补助标准"
        ordering = ["kind", "category", "grade", "nature", "variant", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="standard_end_after_start",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="standard_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(payment_month__isnull=True) | Q(payment_month__gte=1, payment_month__lte=12),
                name="standard_payment_month_1_to_12",
            ),
        ]

    def __str__(self):
        parts = [self.get_kind_display(), self.get_category_display()]
        if self.grade:
            parts.append(f"{self.get_nature_display()}{self.get_grade_display()}")
        if self.variant:
            parts.append(self.get_variant_display())
        return " ".join(p for p in parts if p) + f" {self.amount}元{self.get_basis_display()}"

    @property
    def key(self):
        return (self.kind, self.category, self.grade, self.nature, self.variant)


class PaymentBatchQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))


class PaymentBatch(models.Model):
    """Payments of one kind for a span of months in a jurisdiction: draft → approved → paid, then locked."""

    unit = models.ForeignKey("units.Unit", verbose_name="发放单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("发放类别", max_length=12, choices=PaymentKind.choices)
    first_month = models.DateField("起始月份")
    last_month = models.DateField("截止月份")
    is_backpay = models.BooleanField("补发批次", default=False)
    cause = models.ForeignKey(
        Standard, null=True, blank=True, on_delete=models.PROTECT, related_name="backpay_batches", verbose_name="调标"
    )
    key = models.CharField("批次键", max_length=100, unique=True, editable=False)
    title = models.CharField("批次名称", max_length=100)
    status = models.CharField("状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.DRAFT)
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_on = models.DateField("发放日期", null=True, blank=True)
    method = models.CharField("发放方式", max_length=10, choices=PayMethod.choices, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PaymentBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-first_month", "kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(last_month__gte=F("first_month")), name="batch_last_after_first"),
            models.CheckConstraint(
                condition=Q(is_backpay=False) | Q(cause__isnull=False), name="backpay_batch_has_cause"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("payments:batch", args=[self.pk])

    @property
    def locked(self):
        return self.status != BatchStatus.DRAFT


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "township__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "township__path", roles=[Role.OFFICE]))

    def counted(self):
        """Rows that count as money paid out: a returned transfer is not, its re-issue is."""
        return self.filter(returned_on__isnull=True)


class Payment(models.Model):
    """One line of the ledger: a person, a kind, the month it covers (or the year, for an annual standard)."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="payments")
    township = models.ForeignKey("units.Unit", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("发放类别", max_length=12, choices=PaymentKind.choices)
    category = models.CharField("优抚类别", max_length=2, choices=Category.choices, blank=True)
    month = models.DateField("所属月份")
    months = models.PositiveSmallIntegerField("月数", default=1)
    rate = MoneyField("标准（元）", null=True, blank=True)
    amount = MoneyField("金额（元）")
    batch = models.ForeignKey(
        PaymentBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payments", verbose_name="批次"
    )
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    standard = models.ForeignKey(Standard, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    is_backpay = models.BooleanField("补发", default=False)
    cause = models.ForeignKey(
        Standard, null=True, blank=True, on_delete=models.PROTECT, related_name="backpays", verbose_name="调标"
    )
    reference = models.CharField("关联事项", max_length=60, blank=True)
    purpose = models.CharField("用途", max_length=200, blank=True)
    award = models.ForeignKey(Award, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    change = models.ForeignKey(
        StatusChange, null=True, blank=True, on_delete=models.PROTECT, related_name="payments", verbose_name="异动"
    )
    method = models.CharField("发放方式", max_length=10, choices=PayMethod.choices, blank=True)
    paid_on = models.DateField("发放日期", null=True, blank=True)
    returned_on = models.DateField("退回日期", null=True, blank=True)
    returned_reason = models.CharField("退回原因", max_length=200, blank=True)
    reissue_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reissue", verbose_name="重发的退回款"
    )
    imported = models.BooleanField("历史导入", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "发放记录"
        verbose_name_plural = "发放记录"
        ordering = ["month", "kind", "pk"]
        indexes = [
            models.Index(fields=["batch", "category"]),
            models.Index(fields=["kind", "month"]),
            models.Index(fields=["beneficiary", "month"]),
            # The ledger: a month of a jurisdiction, in month and township order.
            models.Index(fields=["month", "township"]),
            # A county's or township's months (the yearly summary, a unit's figures), given its townships as a list.
            models.Index(fields=["township", "month"]),
            # One-offs by their reference, exact or by prefix (an activity's 慰问金 and its corrections).
            models.Index(fields=["reference"], opclasses=["varchar_pattern_ops"], name="payment_reference_idx"),
        ]
        constraints = [
            # Regular pay: each (person, kind, month) once, whatever span the batches use.
            models.UniqueConstraint(
                fields=["beneficiary", "kind", "month"],
                condition=Q(is_backpay=False, reference="", returned_on__isnull=True),
                name="regular_payment_once_per_month",
            ),
            # 补发: each month's difference once per standard change.
            models.UniqueConstraint(
                fields=["beneficiary", "kind", "month", "cause"],
                condition=Q(is_backpay=True, returned_on__isnull=True),
                name="backpay_once_per_month_and_cause",
            ),
            # One-offs: each reference paid once.
            models.UniqueConstraint(
                fields=["beneficiary", "kind", "reference"],
                condition=Q(is_backpay=False, returned_on__isnull=True) & ~Q(reference=""),
                name="one_off_payment_once_per_reference",
            ),
            models.CheckConstraint(condition=Q(is_backpay=False) | Q(cause__isnull=False), name="backpay_has_cause"),
            models.CheckConstraint(
                condition=Q(kind__in=REGULAR_KINDS) | Q(is_backpay=True) | ~Q(reference=""),
                name="one_off_payment_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ONE_OFF_KINDS) | Q(is_backpay=True) | Q(reference=""),
                name="regular_payment_has_no_reference",
            ),
            models.CheckConstraint(condition=Q(months__gte=1), name="payment_months_positive"),
        ]

    def __str__(self):
        return f"{self.beneficiary} {self.get_kind_display()} {self.month:%Y-%m} {self.amount}元"


class BatchException(models.Model):
    """A person the batch could not pay, listed beside the draft."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.CASCADE, related_name="exceptions")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("原因", max_length=15, choices=ExceptionReason.choices)
    detail = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "未纳入发放的人员"
        verbose_name_plural = "未纳入发放的人员"
        ordering = ["reason", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "beneficiary", "reason"], name="one_exception_per_reason")
        ]

    def __str__(self):
        return f"{self.beneficiary} {self.get_reason_display()}"


class RecoveryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "township__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "township__path", roles=[Role.OFFICE]))


class Recovery(models.Model):
    """Money paid after a death or a loss of entitlement: set against what is still due, the rest 追回."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="recoveries")
    township = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    change = models.ForeignKey(
        StatusChange, null=True, blank=True, on_delete=models.PROTECT, related_name="recoveries", verbose_name="异动"
    )
    payments = models.ManyToManyField(Payment, related_name="recoveries", verbose_name="多发的发放记录")
    overpaid = MoneyField("多发金额（元）")
    offset = MoneyField("抵扣丧葬补助（元）", default=0)
    amount = MoneyField("应追回金额（元）")
    recovered = MoneyField("已追回金额（元）", default=0)
    status = models.CharField("状态", max_length=10, choices=RecoveryStatus.choices, default=RecoveryStatus.OPEN)
    settled_on = models.DateField("结清日期", null=True, blank=True)
    settle_method = models.CharField("结清方式", max_length=10, choices=SettleMethod.choices, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = RecoveryQuerySet.as_manager()

    class Meta:
        verbose_name = "追回"
        verbose_name_plural = "追回"
        ordering = ["status", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["change"], name="one_recovery_per_change"),
            models.CheckConstraint(condition=Q(amount=F("overpaid") - F("offset")), name="recovery_amount_adds_up"),
            models.CheckConstraint(condition=Q(recovered__lte=F("amount")), name="recovery_not_more_than_due"),
        ]

    def __str__(self):
        return f"{self.beneficiary} 追回 {self.amount}元"

    @property
    def outstanding(self):
        return self.amount - self.recovered
