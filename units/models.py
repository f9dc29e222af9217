from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from activities.constants import metric_choices

from . import permissions
from .constants import (
    MILITARY_KINDS,
    AuditAction,
    GroupRole,
    JobStatus,
    Role,
    UnitKind,
)


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "path", roles=[Role.OFFICE]))

    def civil(self):
        return self.exclude(kind__in=MILITARY_KINDS)

    def military(self):
        return self.filter(kind__in=MILITARY_KINDS)


class Unit(models.Model):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级单位", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    is_active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if path != self.path:
            self.path, self.depth = path, path.count("/") - 2
            Unit.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)

    def get_absolute_url(self):
        return reverse("units:detail", args=[self.pk])

    @property
    def is_military(self):
        return self.kind in MILITARY_KINDS

    def subtree(self):
        return Unit.objects.filter(path__startswith=self.path)

    def ancestors(self):
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        by_id = Unit.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    is_director = models.BooleanField("双拥办主任", default=False, help_text="可审批需要第二人确认的事项")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = "账号归属"
        verbose_name_plural = "账号归属"
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class UserProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    must_change_password = models.BooleanField("下次登录须改密码", default=False)

    class Meta:
        verbose_name = "用户资料"
        verbose_name_plural = "用户资料"

    def __str__(self):
        return self.full_name or self.user.get_username()


class LeadingGroupQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE, Role.LIAISON]))


class LeadingGroup(models.Model):
    unit = models.OneToOneField(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="leading_group")
    name = models.CharField("名称", max_length=100, default="双拥工作领导小组")
    office_note = models.CharField(
        "办公室设置", max_length=200, blank=True, help_text="如：领导小组下设办公室，办公室设在……"
    )
    history = HistoricalRecords()

    objects = LeadingGroupQuerySet.as_manager()

    class Meta:
        verbose_name = "双拥工作领导小组"
        verbose_name_plural = "双拥工作领导小组"

    def __str__(self):
        return f"{self.unit.name}{self.name}"

    def get_absolute_url(self):
        return reverse("units:group", args=[self.unit_id])


class GroupMemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "group__unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "group__unit__path", roles=[Role.OFFICE, Role.LIAISON]))

    def on(self, day):
        return self.filter(Q(end_on__isnull=True) | Q(end_on__gte=day), start_on__lte=day)


class GroupMember(models.Model):
    group = models.ForeignKey(LeadingGroup, on_delete=models.PROTECT, related_name="members")
    name = models.CharField("姓名", max_length=50)
    job_title = models.CharField("职务", max_length=100)
    role = models.CharField("小组职务", max_length=20, choices=GroupRole.choices)
    start_on = models.DateField("起始日期")
    end_on = models.DateField("终止日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = GroupMemberQuerySet.as_manager()

    class Meta:
        verbose_name = "领导小组成员"
        verbose_name_plural = "领导小组成员"
        ordering = ["start_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="group_member_end_after_start",
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"


class PairingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(
            permissions.scope_q(user, "civil_unit__path") | permissions.scope_q(user, "military_unit__path")
        )

    def editable_by(self, user):
        return self.filter(
            permissions.scope_q(user, "civil_unit__path", roles=[Role.OFFICE, Role.LIAISON])
            | permissions.scope_q(user, "military_unit__path", roles=[Role.OFFICE])
        )

    def active(self):
        return self.filter(ended_on__isnull=True)


class Pairing(models.Model):
    civil_unit = models.ForeignKey(
        Unit, verbose_name="地方单位", on_delete=models.PROTECT, related_name="civil_pairings"
    )
    military_unit = models.ForeignKey(
        Unit, verbose_name="部队/共建力量", on_delete=models.PROTECT, related_name="military_pairings"
    )
    signed_on = models.DateField("结对日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=200, blank=True)
    goals = models.TextField("共建目标", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = "军民共建对子"
        verbose_name_plural = "军民共建对子"
        ordering = ["-signed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("signed_on")),
                name="pairing_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["civil_unit", "military_unit"],
                condition=Q(ended_on__isnull=True),
                name="pairing_one_active_per_couple",
                violation_error_message="这两个单位已有一个共建中的对子。",
            ),
        ]

    def __str__(self):
        return f"{self.civil_unit.name} ↔ {self.military_unit.name}"

    def get_absolute_url(self):
        return reverse("units:pairing", args=[self.pk])


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(pairing__in=Pairing.objects.visible_to(user))


class Agreement(models.Model):
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="agreements")
    signed_on = models.DateField("签订日期")
    file = models.FileField("协议文件", upload_to="agreements/%Y/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    note = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = "共建协议"
        verbose_name_plural = "共建协议"
        ordering = ["-signed_on", "-pk"]

    def __str__(self):
        return f"{self.pairing} {self.signed_on}"

    def get_absolute_url(self):
        return reverse("units:agreement_file", args=[self.pk])


class AuditEvent(models.Model):
    action = models.CharField("事件", max_length=30, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField("用户名", max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "安全日志"
        verbose_name_plural = "安全日志"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.username}"


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(created_by=user) if user.is_authenticated else self.none()


class Job(models.Model):
    """A long piece of work run by a background worker, with progress for the page that asked."""

    kind = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    input_file = models.FileField(upload_to="jobs/%Y/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # host:pid of the worker running it; with attempts, lets a job whose worker died be run again.
    worker = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    def get_absolute_url(self):
        return reverse("job", args=[self.pk])

    @property
    def percent(self):
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def is_finished(self):
        return self.status in {JobStatus.DONE, JobStatus.FAILED}


class UnitPlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE, Role.LIAISON]))


class UnitPlan(models.Model):
    """A unit's 年度双拥工作计划: its text and measurable targets."""

    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveSmallIntegerField("年度")
    text = models.TextField("计划内容", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = UnitPlanQuerySet.as_manager()

    class Meta:
        verbose_name = "年度双拥工作计划"
        verbose_name_plural = "年度双拥工作计划"
        ordering = ["-year", "unit"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year"],
                name="one_plan_per_unit_and_year",
                violation_error_message="该单位该年度已有计划。",
            ),
        ]

    def __str__(self):
        return f"{self.unit} {self.year}年双拥工作计划"

    def get_absolute_url(self):
        return reverse("units:plan", args=[self.unit_id, self.year])


class PlanTarget(models.Model):
    """One measurable target: a number of activities of a type (type:meeting) or a count (count:boards)."""

    plan = models.ForeignKey(UnitPlan, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField("指标", max_length=40, choices=metric_choices)
    target = models.PositiveIntegerField("目标数")

    class Meta:
        verbose_name = "计划指标"
        verbose_name_plural = "计划指标"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "metric"],
                name="one_target_per_metric",
                violation_error_message="同一指标只能填写一次。",
            ),
            models.CheckConstraint(condition=Q(target__gt=0), name="plan_target_positive"),
        ]

    def __str__(self):
        return f"{self.get_metric_display()} {self.target}"
