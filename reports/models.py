from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from units import permissions
from units.constants import Role

from .constants import QUARTERS, ReportAction, ReportStatus, SummaryKind, SummaryStatus


class ReportingUnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))

    def during(self, start, end):
        """Units that must report for a period from `start` to `end`."""
        return self.filter(Q(end_on__isnull=True) | Q(end_on__gte=start), start_on__lte=end)


class ReportingUnit(models.Model):
    """A member unit that must file quarterly reports, from a date (and until one, when it stops)."""

    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="reporting")
    start_on = models.DateField("起始日期")
    end_on = models.DateField("截止日期", null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ReportingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "报送单位"
        verbose_name_plural = "报送单位"
        ordering = ["unit__path", "start_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(end_on__isnull=True),
                name="one_open_reporting_duty",
                violation_error_message="该单位已在报送名单中。",
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")), name="reporting_end_after_start"
            ),
        ]

    def __str__(self):
        return str(self.unit)


class DeadlineQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]))


class QuarterDeadline(models.Model):
    """The due date an office sets for a quarter's reports of the units below it."""

    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="deadlines")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度", choices=QUARTERS)
    due_on = models.DateField("报送截止日期")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords()

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = "季度报送期限"
        verbose_name_plural = "季度报送期限"
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "quarter"], name="one_deadline_per_quarter"),
        ]

    def __str__(self):
        return f"{self.unit} {self.year}年{self.get_quarter_display()} {self.due_on}"


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE, Role.LIAISON]))


class QuarterlyReport(models.Model):
    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度", choices=QUARTERS)
    status = models.CharField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    work_text = models.TextField("工作开展情况", blank=True)
    problems_text = models.TextField("存在的问题", blank=True)
    plan_text = models.TextField("下季度工作计划", blank=True)
    # Frozen on submission: the figures (reports.figures) and the activities the report covered.
    figures = models.JSONField("报送时的数据", null=True, blank=True, editable=False)
    activity_ids = models.JSONField(default=list, blank=True, editable=False)
    # Frozen on acceptance, for the difference shown when data change afterwards.
    accepted_figures = models.JSONField(null=True, blank=True, editable=False)
    due_on = models.DateField("报送截止日期")
    first_submitted_at = models.DateTimeField("首次报送时间", null=True, blank=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField("通过时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["version"])

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = "季度报告"
        verbose_name_plural = "季度报告"
        ordering = ["-year", "-quarter", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year", "quarter"],
                name="one_report_per_unit_and_quarter",
                violation_error_message="该单位本季度的报告已存在。",
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="report_quarter_1_to_4"),
        ]

    def __str__(self):
        return f"{self.unit} {self.year}年{self.get_quarter_display()}双拥工作报告"

    def get_absolute_url(self):
        return reverse("reports:report", args=[self.pk])


class ReportEvent(models.Model):
    """One step of a report's workflow: who, when, and the comment or reason."""

    report = models.ForeignKey(QuarterlyReport, on_delete=models.PROTECT, related_name="events")
    action = models.CharField("操作", max_length=10, choices=ReportAction.choices)
    comment = models.TextField("意见", blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "报告流转记录"
        verbose_name_plural = "报告流转记录"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.report} {self.get_action_display()}"


class ReportAttachment(models.Model):
    report = models.ForeignKey(QuarterlyReport, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="report-attachments/%Y/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    is_removed = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "报告附件"
        verbose_name_plural = "报告附件"
        ordering = ["pk"]

    def __str__(self):
        return self.original_name


class SummaryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(permissions.scope_q(user, "unit__path"))

    def editable_by(self, user):
        """The office edits summaries in its scope; a liaison only its own unit's (not those below it)."""
        own = Q(pk__in=[])
        for path, role, _ in permissions.memberships(user):
            if role == Role.LIAISON:
                own |= Q(unit__path=path)
        return self.filter(permissions.scope_q(user, "unit__path", roles=[Role.OFFICE]) | own)


class Summary(models.Model):
    """A summary document of a unit's scope for a year, a half year or an occasion: the edits made to the
    generated text, and its state. Finalizing (定稿) freezes a SummaryVersion."""

    unit = models.ForeignKey("units.Unit", verbose_name="单位", on_delete=models.PROTECT, related_name="summaries")
    kind = models.CharField("类型", max_length=10, choices=SummaryKind.choices, default=SummaryKind.ANNUAL)
    year = models.PositiveSmallIntegerField("年度")
    occasion = models.CharField("节日", max_length=20, blank=True, default="")
    status = models.CharField("状态", max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.DRAFT)
    # {section key: [paragraph, ...]}: paragraphs written or edited by people, shown beside the generated ones.
    edits = models.JSONField("修改和补充", default=dict, blank=True)
    shortcomings = models.TextField("存在的不足", blank=True)
    next_plan = models.TextField("下一步工作计划", blank=True)
    # The PDF of the current data, kept until the data or the edits change (data_key is their fingerprint).
    cached_pdf = models.FileField(upload_to="summaries/cache/", blank=True)
    cached_key = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = SummaryQuerySet.as_manager()

    class Meta:
        verbose_name = "工作总结"
        verbose_name_plural = "工作总结"
        ordering = ["-year", "unit__path", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind", "year", "occasion"],
                name="one_summary_per_unit_kind_year_occasion",
                violation_error_message="该单位该年度的这份总结已存在。",
            ),
            models.CheckConstraint(
                condition=Q(kind="occasion", occasion__gt="") | (~Q(kind="occasion") & Q(occasion="")),
                name="summary_occasion_only_for_occasion_kind",
            ),
        ]

    def __str__(self):
        return f"{self.unit} {self.year} {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("reports:summary", args=[self.unit_id, self.year, self.shape])

    @property
    def shape(self):
        """The URL's word for the document: annual, half, or the occasion (army_day ...)."""
        return self.occasion or self.kind


class SummaryVersion(models.Model):
    """A finalized (定稿) summary: the document as it read, with its figures, and its PDF. Never changes."""

    summary = models.ForeignKey(Summary, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField("版本")
    document = models.JSONField("文稿")
    figures = models.JSONField("数据")
    pdf = models.FileField(upload_to="summaries/final/", blank=True)
    finalized_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    finalized_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "总结定稿"
        verbose_name_plural = "总结定稿"
        ordering = ["summary", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["summary", "number"], name="one_version_number_per_summary"),
        ]

    def __str__(self):
        return f"{self.summary} 第{self.number}版"
