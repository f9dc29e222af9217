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
