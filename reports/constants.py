from django.db import models


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已通过"


class ReportAction(models.TextChoices):
    CREATE = "create", "起草"
    SUBMIT = "submit", "报送"
    RESUBMIT = "resubmit", "重新报送"
    RETURN = "return", "退回"
    ACCEPT = "accept", "通过"
    REOPEN = "reopen", "重新打开"


# Days after a quarter ends that its report is due, unless the office sets a date.
DEFAULT_DUE_DAYS = 10
QUARTERS = [(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")]


class SummaryKind(models.TextChoices):
    ANNUAL = "annual", "年度双拥工作总结"
    HALF = "half", "上半年双拥工作总结"
    OCCASION = "occasion", "节日走访慰问情况"


class SummaryStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    FINAL = "final", "已定稿"
