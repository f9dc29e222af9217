from django.db import models


class ActivityType(models.TextChoices):
    VISIT = "visit", "走访慰问"
    FORUM = "forum", "座谈会"
    PUBLICITY = "publicity", "宣传教育"
    DEFENSE_EDUCATION = "defense_edu", "国防教育"
    TRAINING = "training", "军训"
    CONSCRIPTION = "conscription", "征兵"
    FELLOWSHIP = "fellowship", "军民联谊"
    JOINT = "joint", "共建活动"
    MEDICAL = "medical", "医疗服务"
    LEGAL = "legal", "法律服务"
    PLACEMENT = "placement", "就业安置"
    COMMENDATION = "commendation", "评选表彰"
    ASSISTANCE = "assistance", "帮扶"
    SUPPORT_GOVERNMENT = "support_gov", "拥政爱民"
    MEETING = "meeting", "领导小组会议"
    INFORMATION = "information", "信息报送"
    OTHER = "other", "其他"


class Occasion(models.TextChoices):
    NONE = "", "无"
    NEW_YEAR = "new_year", "元旦"
    SPRING_FESTIVAL = "spring", "春节"
    ARMY_DAY = "army_day", "八一"
    NATIONAL_DAY = "national_day", "国庆"
    DEFENSE_DAY = "defense_day", "全民国防教育日"
    CONSCRIPTION = "conscription", "征兵季"


# Occasions whose visits start in December of the year before (元旦 2026 is visited in late December 2025).
EARLY_OCCASIONS = [Occasion.NEW_YEAR, Occasion.SPRING_FESTIVAL]

# Counts that summaries report, as Activity fields: field -> (label, measure word, the types that offer it).
COUNT_FIELDS = {
    "boards": ("板报", "期", [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION]),
    "slogans": ("标语", "条", [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION, ActivityType.CONSCRIPTION]),
    "banners": ("横幅", "条", [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION, ActivityType.CONSCRIPTION]),
    "lectures": ("讲座", "场", [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION, ActivityType.LEGAL]),
    "broadcasts": ("广播", "次", [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION, ActivityType.CONSCRIPTION]),
    "info_items": ("信息", "篇", [ActivityType.INFORMATION, ActivityType.PUBLICITY]),
    "enlist_applied": ("报名", "人", [ActivityType.CONSCRIPTION]),
    "enlist_passed": ("体检合格", "人", [ActivityType.CONSCRIPTION]),
    "enlist_final": ("定兵", "人", [ActivityType.CONSCRIPTION]),
    "placed_officers": ("安置转业干部", "人", [ActivityType.PLACEMENT]),
    "placed_soldiers": ("安置退役士兵", "人", [ActivityType.PLACEMENT]),
    "placed_spouses": ("安置随军家属", "人", [ActivityType.PLACEMENT]),
    "training_schools": ("参训学校", "所", [ActivityType.TRAINING]),
    "training_students": ("参训学生", "人", [ActivityType.TRAINING]),
    "children_enrolled": ("军人子女入学", "人", [ActivityType.ASSISTANCE, ActivityType.OTHER]),
    "plaques_hung": ("光荣牌悬挂", "块", [ActivityType.VISIT, ActivityType.OTHER]),
    "merit_notices": ("立功喜报送达", "份", [ActivityType.VISIT, ActivityType.COMMENDATION, ActivityType.OTHER]),
}


class BudgetSource(models.TextChoices):
    COUNTY = "county", "本级财政"
    UPPER = "upper", "上级补助"
    TOWNSHIP = "township", "乡镇（街道）财政"
    DONATION = "donation", "社会捐助"
    OTHER = "other", "其他"


def metric_choices():
    """Plan targets measure either a number of activities of a type or one of the counts."""
    return [(f"type:{value}", f"{label}（次）") for value, label in ActivityType.choices if value != "other"] + [
        (f"count:{field}", f"{label}（{word}）") for field, (label, word, _) in COUNT_FIELDS.items()
    ]
