from django.db import models


class Category(models.TextChoices):
    MARTYR_FAMILY = "01", "烈士遗属"
    DUTY_DEATH_FAMILY = "02", "因公牺牲军人遗属"
    ILLNESS_DEATH_FAMILY = "03", "病故军人遗属"
    DISABLED = "04", "残疾军人"
    ILL_RETURNED = "05", "带病回乡退役军人"
    WAR_VETERAN = "06", "参战参试退役人员"
    DEMOBILIZED = "07", "在乡复员军人"
    RURAL_VETERAN_60 = "08", "60周岁以上农村籍退役士兵"
    CONSCRIPT_FAMILY = "09", "义务兵家庭"
    SERVING_FAMILY = "10", "现役军人家属"
    RETIRED_OFFICER = "11", "军队离退休干部"
    OTHER = "99", "其他"


# Categories whose entitlement names a serving member (and their awards).
SERVING_MEMBER_CATEGORIES = [Category.CONSCRIPT_FAMILY, Category.SERVING_FAMILY]
# Categories whose amount depends on years of service.
SERVICE_YEARS_CATEGORIES = [Category.RURAL_VETERAN_60]


class DisabilityGrade(models.IntegerChoices):
    G1 = 1, "一级"
    G2 = 2, "二级"
    G3 = 3, "三级"
    G4 = 4, "四级"
    G5 = 5, "五级"
    G6 = 6, "六级"
    G7 = 7, "七级"
    G8 = 8, "八级"
    G9 = 9, "九级"
    G10 = 10, "十级"


class DisabilityNature(models.TextChoices):
    WAR = "war", "因战"
    DUTY = "duty", "因公"
    ILLNESS = "illness", "因病"


# 条例 Art. 27: 因病 disabilities are entitled to 残疾抚恤金 only at grades 1–6.
ILLNESS_MAX_PENSION_GRADE = 6


class ServiceArea(models.TextChoices):
    ORDINARY = "ordinary", "一般地区"
    TIBET = "tibet", "西藏（进藏）"
    XINJIANG = "xinjiang", "新疆"
    HARDSHIP = "hardship", "其他艰苦边远地区"


class AwardLevel(models.TextChoices):
    FIRST = "first", "一等功"
    SECOND = "second", "二等功"
    THIRD = "third", "三等功"
    EXCELLENT = "excellent", "优秀士兵"


class Status(models.TextChoices):
    ACTIVE = "active", "在册"
    SUSPENDED = "suspended", "中止"
    HELD = "held", "停发"
    TRANSFERRED = "transferred", "迁出"
    CANCELLED = "cancelled", "注销"
    DECEASED = "deceased", "死亡"


class ChangeKind(models.TextChoices):
    ADD = "add", "新增"
    TRANSFER_IN = "transfer_in", "迁入"
    TRANSFER_OUT = "transfer_out", "迁出"
    DEATH = "death", "死亡"
    SUSPEND = "suspend", "中止"
    RESUME = "resume", "恢复"
    HOLD = "hold", "停发"
    CANCEL = "cancel", "取消资格"
    REGRADE = "regrade", "等级调整"
    CONFIRM = "confirm", "年度确认"
    CORRECTION = "correction", "更正"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "待接收"
    ACCEPTED = "accepted", "已接收"
    WITHDRAWN = "withdrawn", "已撤回"


class AccessKind(models.TextChoices):
    REVEAL_ID = "reveal_id", "查看完整身份证号"
    REVEAL_BANK = "reveal_bank", "查看完整银行账号"
    EXPORT_UNMASKED = "export_unmasked", "导出未脱敏名册"
    FOREIGN_ID = "foreign_id", "录入外县已登记的身份证号"


class DeathCause(models.TextChoices):
    ILLNESS = "illness", "病故"
    OLD_WOUND = "old_wound", "旧伤复发"
    OTHER = "other", "其他原因"


# Payments


class PaymentKind(models.TextChoices):
    PENSION = "pension", "定期抚恤金"
    DISABILITY = "disability", "残疾抚恤金"
    LIVING = "living", "定期生活补助"
    CONSCRIPT = "conscript", "义务兵家庭优待金"
    NURSING = "nursing", "护理费"
    AWARD = "award", "立功奖励"
    CONDOLENCE = "condolence", "慰问金"
    FUNERAL = "funeral", "丧葬补助"
    LUMP_SUM = "lump_sum", "一次性抚恤金"
    HARDSHIP = "hardship", "困难补助"
    OTHER = "other", "其他"


# Kinds paid by the month or year in batches; each (person, kind, month) is covered once.
REGULAR_KINDS = [
    PaymentKind.PENSION,
    PaymentKind.DISABILITY,
    PaymentKind.LIVING,
    PaymentKind.CONSCRIPT,
    PaymentKind.NURSING,
]
# Kinds paid once for a reason; each (person, kind, reference) is paid once.
ONE_OFF_KINDS = [kind for kind in PaymentKind.values if kind not in REGULAR_KINDS]

# The regular kind each category is normally paid; a missing standard for these is an exception.
CATEGORY_KIND = {
    Category.MARTYR_FAMILY: PaymentKind.PENSION,
    Category.DUTY_DEATH_FAMILY: PaymentKind.PENSION,
    Category.ILLNESS_DEATH_FAMILY: PaymentKind.PENSION,
    Category.DISABLED: PaymentKind.DISABILITY,
    Category.ILL_RETURNED: PaymentKind.LIVING,
    Category.WAR_VETERAN: PaymentKind.LIVING,
    Category.DEMOBILIZED: PaymentKind.LIVING,
    Category.RURAL_VETERAN_60: PaymentKind.LIVING,
    Category.CONSCRIPT_FAMILY: PaymentKind.CONSCRIPT,
}


class Basis(models.TextChoices):
    MONTH = "month", "每月"
    YEAR = "year", "每年"
    SERVICE_YEAR = "service_year", "每服役一年每月"
    ONCE = "once", "一次性"


# Variants of a standard: the service area for 优待金, the award level for 立功奖励.
VARIANT_CHOICES = [
    (ServiceArea.TIBET.value, "进藏"),
    (ServiceArea.XINJIANG.value, "新疆"),
    (ServiceArea.HARDSHIP.value, "艰苦边远地区"),
    *AwardLevel.choices,
]


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已审批"
    PAID = "paid", "已发放"


class PayMethod(models.TextChoices):
    CARD = "card", "打卡"
    PASSBOOK = "passbook", "存折"
    CASH = "cash", "现金"


class ExceptionReason(models.TextChoices):
    NO_ACCOUNT = "no_account", "无银行账号"
    SUSPENDED = "suspended", "中止"
    HELD = "held", "停发"
    DIED = "died", "已死亡"
    CANCELLED = "cancelled", "已注销"
    NO_STANDARD = "no_standard", "无适用标准"
    TRANSFERRED = "transferred", "已迁出"
    PAID_BY_OTHER = "paid_by_other", "由原县发放"


class RecoveryStatus(models.TextChoices):
    OPEN = "open", "待追回"
    SETTLED = "settled", "已结清"


class SettleMethod(models.TextChoices):
    OFFSET = "offset", "抵扣丧葬补助"
    REFUND = "refund", "本人或家属退回"
    DEDUCT = "deduct", "从后续待遇中扣回"
    WRITE_OFF = "write_off", "经批准核销"
