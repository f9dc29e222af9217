"""The plain Chinese draft of a report's 工作开展情况, written from its figures and activities.

Every sentence states figures of `reports.figures`; a section with no data is left out, and nothing is said
that no figure or record stands behind (see shared/summary-shapes.md, pitfalls 1, 2 and 8). Amounts are
written as the real summaries write them: 7100元, 672.50元, 20.39万元.
"""

from decimal import Decimal

from django.db.models import F

from activities.constants import COUNT_FIELDS, ActivityType, Occasion
from beneficiaries.constants import Basis, Category, PaymentKind
from shuangyong.lib.money import plain_yuan

# The counts that publicity reports, each with its verb: "出板报6期".
PUBLICITY_VERBS = {
    "boards": "出板报",
    "slogans": "张贴标语",
    "banners": "悬挂横幅",
    "lectures": "举办讲座",
    "broadcasts": "播放广播",
    "info_items": "报送双拥信息",
}
SUPPORT_VERBS = {
    "plaques_hung": "为军属家庭悬挂光荣牌",
    "merit_notices": "送达立功喜报",
    "children_enrolled": "落实军人子女入学优待",
}
PUBLICITY_TYPES = [ActivityType.PUBLICITY, ActivityType.DEFENSE_EDUCATION]
# Occasions as the summaries name them: “八一” is quoted, the festivals are not.
OCCASION_WORDS = {"army_day": "“八一”", "conscription": "征兵"}
# Units that write of themselves in the first person: the last characters of the name give the word.
SELF_WORDS = ["社区", "街道", "镇", "乡", "村", "县", "区", "市", "局", "委", "办", "院", "校", "所", "站", "中心"]
OCCASION_LABELS = dict(Occasion.choices)
MAIN_ACTIVITIES = 5
# Families are counted by household: "义务兵家庭优待金…44户".
HOUSEHOLD_CATEGORIES = [Category.CONSCRIPT_FAMILY]


def prose_yuan(text):
    """Money in prose: 万元 for whole hundreds from 10000 up (20.39万元), else 元 (7100元, 672.50元)."""
    value = Decimal(text)
    if value >= 10000 and value % 100 == 0:
        return in_wan(value)
    return plain_yuan(value)


def in_wan(value):
    """An amount of whole hundreds in 万元 with its trailing zeros dropped: 1500 -> '0.15万元', 62000 -> '6.2万元'."""
    return f"{format((Decimal(value) / 10000).normalize(), 'f')}万元"


def list_yuan(texts):
    """The formatter for the amounts of one list, one unit for all: 万元 when they are all whole hundreds and one
    reaches 10000 (6.2万元、0.15万元, as the campaign lists write them), else 元."""
    values = [Decimal(text) for text in texts if Decimal(text)]
    if values and max(values) >= 10000 and all(value % 100 == 0 for value in values):
        return in_wan
    return plain_yuan


def self_word(unit):
    """How a unit names itself in its report: 我镇, 我乡, 我局, 我社区 ...; the full name otherwise (群团 write so)."""
    for ending in SELF_WORDS:
        if unit.name.endswith(ending):
            return f"我{ending}"
    return unit.name


def period_word(period):
    """The span a sentence speaks of: 本季度, 上半年, 全年, “八一”期间."""
    if period.kind == "quarter":
        return "本季度"
    if period.kind == "half":
        return "上半年" if period.number == 1 else "下半年"
    if period.kind == "occasion":
        return f"{occasion_word(period.occasion)}期间"
    return "全年"


def occasion_word(occasion):
    return OCCASION_WORDS.get(occasion) or OCCASION_LABELS.get(occasion, occasion)


def _sentence(head, clauses):
    clauses = [clause for clause in clauses if clause]
    if not clauses:
        return ""
    return f"{head}，{'，'.join(clauses)}。" if head else f"{'，'.join(clauses)}。"


def _listing(items):
    return "、".join(f"{verb}{n}{word}" for verb, n, word in items if n)


def draft_work_text(*, unit, period, figures, activities):
    """Return a draft of 工作开展情况 stating the figures, one paragraph per section with data ("" when none)."""
    when, me = period_word(period), self_word(unit)
    paragraphs = [
        _overview(when, me, figures.get("activities") or {}),
        _main_activities(period, activities),
        _leading_group(when, figures.get("leading_group") or {}),
        _publicity(figures.get("activities") or {}),
        _visits(period, figures.get("visits") or {}),
        _pairings(when, me, figures.get("pairings") or {}),
        _conscription(figures.get("conscription") or {}),
        _placement(when, figures.get("placement") or {}),
        _payments(when, figures.get("payments") or {}),
        _plans(period, figures.get("plans") or {}),
    ]
    return "\n".join(paragraph for paragraph in paragraphs if paragraph)


def _overview(when, me, section):
    if not section:
        return ""
    clauses = [f"{me}共开展双拥活动{section['count']}项"]
    participants, soldiers = section["participants"], section["soldiers"]
    if participants:
        clauses.append(f"参加人员{participants}人次")
    if soldiers:
        # 官兵 are counted apart from the participants on an activity; "其中" only when they can be a part of them.
        clauses.append(
            f"其中部队官兵{soldiers}人次" if participants and soldiers <= participants else f"部队官兵{soldiers}人次"
        )
    text = _sentence(when, clauses)
    kinds = [row for row in section["by_type"] if row["type"] != ActivityType.OTHER]
    if len(kinds) > 1:
        text += "包括" + "、".join(f"{row['label']}{row['count']}项" for row in kinds) + "。"
    return text


def _main_activities(period, activities):
    """The largest activities of the period by people reached and taking part, in date order."""
    if hasattr(activities, "order_by"):
        size = F("participants") + F("soldiers") + F("reached")
        rows = list(activities.annotate(size=size).order_by("-size", "start_date", "pk")[:MAIN_ACTIVITIES])
    else:
        rows = sorted(activities or (), key=lambda a: (-(a.participants + a.soldiers + a.reached), a.start_date, a.pk))
        rows = rows[:MAIN_ACTIVITIES]
    rows.sort(key=lambda a: (a.start_date, a.pk))
    if not rows:
        return ""

    def day(activity):
        date = activity.start_date
        prefix = f"{date.year}年" if date.year != period.year else ""
        return f"{prefix}{date.month}月{date.day}日"

    return "主要活动有：" + "；".join(f"{day(a)}，{a.title}" for a in rows) + "。"


def _leading_group(when, section):
    if not section:
        return ""
    clauses = []
    if section["members"]:
        leader = next((row for row in section["roles"] if row["role"] == "leader"), None)
        led = f"由{leader['titles'][0]}任组长，" if leader and leader["titles"] else ""
        clauses.append(f"{section['name'] or '双拥工作领导小组'}{led}现有成员{section['members']}名")
    changes = _listing([("新任", section["joined"], "名"), ("离任", section["left"], "名")])
    if changes:
        clauses.append(f"{when}调整充实领导小组成员（{changes}）")
    if section["meetings"]:
        clauses.append(f"召开领导小组会议{section['meetings']}次")
    if section["subunit_groups"]:
        clauses.append(f"下属{section['subunit_groups']}个单位成立了双拥工作领导小组")
    return _sentence("", clauses)


def _publicity(section):
    if not section:
        return ""
    counts = section["counts"]
    clauses = []
    held = sum(row["count"] for row in section["by_type"] if row["type"] in PUBLICITY_TYPES)
    listing = _listing([(verb, counts.get(name, 0), COUNT_FIELDS[name][1]) for name, verb in PUBLICITY_VERBS.items()])
    if held:
        clauses.append(f"开展宣传教育和国防教育活动{held}项")
    if listing:
        clauses.append(listing)
    if counts.get("training_students"):
        schools = counts.get("training_schools")
        clauses.append(f"组织{f'{schools}所学校' if schools else ''}{counts['training_students']}名学生参加军训")
    support = _listing([(verb, counts.get(name, 0), COUNT_FIELDS[name][1]) for name, verb in SUPPORT_VERBS.items()])
    if support:
        clauses.append(support)
    return _sentence("", clauses)


def _visits(period, section):
    sentences = []
    for row in section.get("occasions", []):
        head = f"{occasion_word(row['occasion'])}期间" if row["occasion"] else "日常走访慰问中"
        if period.kind == "occasion" and row["occasion"] == period.occasion:
            head = ""  # the overview has named the occasion
        yuan = list_yuan([row[name] for name in ("recipients_money", "gifts_money", "groups_money", "goods_value")])
        clauses, paid_parts = [], 0
        if row["recipients_people"]:
            text = f"走访慰问优抚对象{row['recipients_people']}人次"
            if Decimal(row["recipients_money"]):
                text += f"，发放慰问金{yuan(row['recipients_money'])}"
                paid_parts += 1
            clauses.append(text)
        if row["gifts_count"]:
            troops, others = row["gifts_to_troops"], row["gifts_count"] - row["gifts_to_troops"]
            whom = _listing([("驻地部队和共建力量", troops, "个"), ("其他单位", others, "个")])
            text = f"慰问{whom}"
            if Decimal(row["gifts_money"]):
                text += f"，送去慰问金{yuan(row['gifts_money'])}"
                paid_parts += 1
            clauses.append(text)
        if row["groups_people"]:
            names = "、".join(row["group_names"])
            text = f"慰问{names}{'等' if row['groups_count'] > len(row['group_names']) else ''}{row['groups_people']}人"
            if Decimal(row["groups_money"]):
                text += f"，发放慰问金{yuan(row['groups_money'])}"
                paid_parts += 1
            clauses.append(text)
        if Decimal(row["goods_value"]):
            clauses.append(f"送去慰问品折价{yuan(row['goods_value'])}")
        if paid_parts > 1:
            clauses.append(f"合计发放慰问金{yuan(row['money'])}")
        if not clauses:
            clauses = [f"开展走访慰问活动{row['activities']}项"]
        sentences.append(f"{head}，{'；'.join(clauses)}。" if head else f"{'；'.join(clauses)}。")
    return "".join(sentences)


def _pairings(when, me, section):
    if not section:
        return ""
    clauses = []
    if section["active"]:
        partners = section["partners"]
        names = "、".join(partners[:3]) + ("等" if len(partners) > 3 else "")
        clauses.append(f"{me}与{names}结成军民共建对子{section['active']}对")
    changes = _listing(
        [
            ("新结对", section["signed"], "对"),
            ("签订共建协议", section["agreements"], "份"),
            ("结束共建", section["ended"], "对"),
        ]
    )
    if changes:
        clauses.append(f"{when}{changes}")
    if section["joint_activities"]:
        text = f"开展共建活动{section['joint_activities']}项"
        if section["joint_soldiers"]:
            text += f"，部队官兵{section['joint_soldiers']}人次参加"
        clauses.append(text)
    return _sentence("", clauses)


def _conscription(section):
    if not section:
        return ""
    clauses = [
        f"报名应征青年{section['applied']}名" if section["applied"] else "",
        f"体检合格{section['passed']}名" if section["passed"] else "",
        f"批准入伍{section['final']}名" if section["final"] else "",
    ]
    return _sentence("征兵工作中", clauses)


def _placement(when, section):
    if not section:
        return ""
    listing = _listing(
        [
            ("转业干部", section["officers"], "人"),
            ("退役士兵", section["soldiers"], "人"),
            ("随军家属", section["spouses"], "人"),
        ]
    )
    return f"{when}共安置{listing}。"


def _standard(row, word):
    """ "，每人每月200元" when the category was paid one standard by the month or the year; else nothing."""
    if len(row["rates"]) != 1:
        return ""
    rate, basis = row["rates"][0]["rate"], row["rates"][0]["basis"]
    if basis == Basis.MONTH:
        return f"，每{word}每月{plain_yuan(rate)}"
    if basis == Basis.YEAR:
        return f"，每{word}每年{plain_yuan(rate)}"
    return ""


def _payment_label(row):
    """ "烈士遗属定期抚恤金"; "义务兵家庭优待金" rather than "义务兵家庭义务兵家庭优待金"."""
    return row["kind_label"] if row["kind_label"].startswith(row["label"]) else f"{row['label']}{row['kind_label']}"


def _payments(when, section):
    """Payment lines in whole 元 (or 元 with fen), as the seeds write them: 烈士遗属…5人，每人每月200元，计3000元."""
    if not section:
        return ""
    sentences = []
    rows = [row for row in section["categories"] if Decimal(row["amount"])]
    if rows:
        items = []
        for row in rows:
            word = "户" if row["category"] in HOUSEHOLD_CATEGORIES else "人"
            items.append(
                f"{_payment_label(row)}{row['people']}{word}{_standard(row, word)}，计{plain_yuan(row['amount'])}"
            )
        sentences.append(f"{when}共发放抚恤补助{plain_yuan(section['regular_amount'])}，其中{'；'.join(items)}。")
    backpay = [row for row in section["categories"] if Decimal(row["backpay_amount"])]
    if backpay:
        items = "、".join(
            f"{row['label']}{row['backpay_people']}人{plain_yuan(row['backpay_amount'])}" for row in backpay
        )
        total = f"，共计{plain_yuan(section['backpay_amount'])}" if len(backpay) > 1 else ""
        sentences.append(f"因标准调整，补发{items}{total}。")
    # 慰问金 from the ledger is stated with the visits; the other one-off payments here.
    one_offs = [row for row in section["one_offs"] if row["kind"] != PaymentKind.CONDOLENCE and Decimal(row["amount"])]
    if one_offs:
        items = "；".join(f"发放{row['label']}{row['people']}人，计{plain_yuan(row['amount'])}" for row in one_offs)
        sentences.append(f"{items}。")
    return "".join(sentences)


def _metric_words(metric):
    kind, _, name = metric.partition(":")
    if kind == "count" and name in COUNT_FIELDS:
        label, word, _ = COUNT_FIELDS[name]
        return label, word
    return dict(ActivityType.choices).get(name, name), "次"


def _plans(period, section):
    if not section or not section["rows"]:
        return ""
    done_word = "完成" if period.kind == "year" else "已完成"
    items = []
    for row in section["rows"]:
        label, word = _metric_words(row["metric"])
        items.append(f"{label}计划{row['target']}{word}，{done_word}{row['done']}{word}")
    return f"对照{period.year}年双拥工作计划，{'；'.join(items)}。"
