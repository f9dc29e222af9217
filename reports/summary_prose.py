"""The prose and tables of a summary Document (reports/summary.py), written from `reports.figures`.

Every sentence states a figure; a section whose figures are empty is left out, and the sections are numbered
after that. Wording follows shared/summary-shapes.md: headings from the seeds' variants, amounts as the seeds
write them (1302300元, 20.39万元) through reports/writing.py's helpers, 比上年增加… where last year has the figure.
"""

from decimal import Decimal

from activities.constants import COUNT_FIELDS
from activities.models import Gift, Recipient, RecipientGroup
from activities.selectors import activities_by_month_and_type
from beneficiaries.constants import Basis, Category, PaymentKind
from reports import writing
from reports.figures import CONSCRIPTION_FIELDS, HALF_WORDS, PLACEMENT_FIELDS, figures, subtree_activities
from shuangyong.lib.idcard import mask_id_number
from shuangyong.lib.money import format_yuan, plain_yuan
from units.constants import MILITARY_KINDS, UnitKind

CHINESE_NUMBERS = "一二三四五六七八九十"
# Headings from the seeds' variants (summary-shapes.md §1.4), a measure then its effect.
HEADINGS = {
    "organization": "加强组织领导，落实工作责任",
    "publicity": "强化宣传教育，营造双拥氛围",
    "visits": "深入走访慰问，积极开展拥军优属活动",
    "policy": "严格依照法规，落实优抚政策",
    "joint": "深化军民共建，密切军政军民关系",
    "conscription": "做好征兵工作，搞好退役军人安置",
    "shortcomings": "存在的不足",
    "next_plan": "下一步工作计划",
}
HALF_NEXT_PLAN = "下半年工作打算"
OCCASION_HEADINGS = {"occasion_list": "慰问对象及金额", "occasion_units": "各单位联动慰问"}
SECTION_KEYS = ["organization", "publicity", "visits", "policy", "joint", "conscription", "shortcomings", "next_plan"]
# Payment lines named as the summaries name them: the 定期生活补助 of 烈士遗属 goes to 老烈士子女 (000 篇四).
PAYMENT_NAMES = {(Category.MARTYR_FAMILY, PaymentKind.LIVING): "烈士子女"}
REGION_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP]
RECIPIENTS_SHOWN = 1000
GIFT_NAMES_SHOWN = 3


def number_word(n):
    """1..99 as 一, 十, 十一, 二十一 (section numbers)."""
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{CHINESE_NUMBERS[tens - 1] if tens > 1 else ''}十{CHINESE_NUMBERS[ones - 1] if ones else ''}"


def title_of(unit, period):
    if period.kind == "half":
        return f"{unit.name}{period.year}年{HALF_WORDS[period.number]}半年双拥工作总结"
    if period.kind == "occasion":
        return f"{unit.name}{period.year}年{writing.occasion_word(period.occasion)}走访慰问情况"
    if period.kind == "quarter":
        return f"{unit.name}{period.label}双拥工作总结"
    return f"{unit.name}{period.year}年度双拥工作总结"


def issuer_of(unit):
    return f"{unit.name}双拥工作领导小组办公室" if unit.kind in REGION_KINDS else unit.name


def compare(now, before, word, *, same_period="上年"):
    """ "，比上年增加3期" / "减少" / "与上年持平"; "" when last year has no such figure."""
    if before in (None, "") or now in (None, ""):
        return ""
    now, before = Decimal(str(now)), Decimal(str(before))
    if not before:
        return ""
    diff = now - before
    if diff > 0:
        return f"，比{same_period}增加{word(diff)}"
    if diff < 0:
        return f"，比{same_period}减少{word(-diff)}"
    return f"，与{same_period}持平"


def counted(unit_word):
    def word(value):
        return f"{int(value)}{unit_word}"

    return word


def money_word(value):
    return writing.prose_yuan(value)


# Sections


def build(*, unit, period, summary, today):
    from reports import summary as summary_module
    from reports.summary import Document, Section

    figs = figures(unit=unit, period=period)
    previous = None
    if period.kind in ("year", "half"):
        prev = figures(unit=unit, period=period.previous())
        if any(prev.get(key) for key in ("activities", "visits", "payments", "pairings", "leading_group")):
            previous = prev
    figs_out = {**figs}
    if previous is not None:
        figs_out["previous"] = previous
    is_draft = today <= period.end
    date = summary_module.chinese_date(today if is_draft else period.end)
    activities = period.activities(subtree_activities(unit))

    if period.kind == "occasion":
        opening, sections, appendix = occasion_parts(unit, period, figs, activities)
    else:
        opening = opening_of(unit, period, figs)
        sections = annual_sections(unit, period, figs, previous or {})
        appendix = payment_appendix(figs) + recipient_appendix(activities)

    edits = (summary.edits or {}) if summary is not None else {}
    by_key = {section.key: section for section in sections}
    for key, paragraphs in edits.items():
        paragraphs = [p for p in (paragraphs or []) if p and str(p).strip()]
        if not paragraphs or key in ("shortcomings", "next_plan"):
            continue
        if key in by_key:
            by_key[key].edited = list(paragraphs)
        elif key in HEADINGS or key in OCCASION_HEADINGS:
            section = Section(
                key=key, heading=HEADINGS.get(key) or OCCASION_HEADINGS[key], paragraphs=[], edited=list(paragraphs)
            )
            sections.append(section)
            by_key[key] = section
    if period.kind != "occasion":
        order = {key: n for n, key in enumerate(SECTION_KEYS)}
        sections.sort(key=lambda s: order.get(s.key, len(order)))
    if summary is not None:
        for key, text in [("shortcomings", summary.shortcomings), ("next_plan", summary.next_plan)]:
            lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
            if not lines:
                continue
            heading = HALF_NEXT_PLAN if key == "next_plan" and period.kind == "half" else HEADINGS[key]
            extra = edits.get(key) or []
            sections.append(Section(key=key, heading=heading, paragraphs=lines, edited=list(extra)))
    for n, section in enumerate(sections, start=1):
        section.heading = f"{number_word(n)}、{section.heading}"

    return Document(
        title=title_of(unit, period),
        issuer=issuer_of(unit),
        date=date,
        opening=opening,
        sections=sections,
        charts=charts_of(figs, activities, period),
        appendix=appendix,
        is_draft=is_draft,
        figures=figs_out,
    )


def opening_of(unit, period, figs):
    me = writing.self_word(unit)
    since = {"half": f"{period.year}年上半年", "year": f"{period.year}年以来"}.get(period.kind, f"{period.label}")
    superior = ""
    parent = unit.parent
    if parent is not None and parent.kind in REGION_KINDS:
        level = parent.name[-1] if parent.name[-1:] in "省市县区" else ""
        if level:
            superior = f"在{level}委、{level}政府的正确领导下，在{level}双拥办的具体指导下，"
        else:
            superior = f"在{parent.name}党委、政府的正确领导下，"
    results = []
    acts = figs.get("activities") or {}
    if acts:
        results.append(f"共开展双拥活动{acts['count']}项")
    visits = figs.get("visits") or {}
    if visits and Decimal(visits["money"]):
        results.append(f"发放慰问金{writing.prose_yuan(visits['money'])}")
    payments = figs.get("payments") or {}
    if payments and Decimal(payments["amount"]):
        results.append(f"发放各项优抚资金{plain_yuan(Decimal(payments['amount']))}")
    span = "上半年" if period.kind == "half" else f"{period.year}年"
    body = f"{me}围绕“拥军优属、拥政爱民”，扎实开展双拥工作"
    if results:
        body += "，" + "，".join(results)
    return f"{since}，{superior}{body}。现将{span}双拥工作情况总结如下："


def annual_sections(unit, period, figs, previous):
    from reports.summary import Section, Table

    when = writing.period_word(period)
    me = writing.self_word(unit)
    same = "上年同期" if period.kind == "half" else "上年"
    sections = []

    # 一、组织领导: the leading group, its changes and meetings; the plan against what was done.
    group = figs.get("leading_group") or {}
    plans = figs.get("plans") or {}
    paragraphs, tables = [], []
    if group:
        text = writing._leading_group(when, group)
        before = (previous.get("leading_group") or {}).get("meetings")
        if group.get("meetings") and before:
            text = text.rstrip("。") + compare(group["meetings"], before, counted("次"), same_period=same) + "。"
        if text:
            paragraphs.append(text)
        roles = [row for row in group.get("roles", []) if row.get("count")]
        if roles:
            tables.append(
                Table(
                    title="双拥工作领导小组组成",
                    headers=["职务", "人数", "担任者职务"],
                    rows=[[row["label"], str(row["count"]), "、".join(row.get("titles") or [])] for row in roles],
                    total=["合计", str(group["members"]), ""],
                )
            )
    if plans and plans.get("rows"):
        text = writing._plans(period, plans)
        if period.kind == "half" and plans.get("completion") is not None:
            text = text.rstrip("。") + f"，完成全年计划的{plans['completion']}%。"
        paragraphs.append(text)
        tables.append(
            Table(
                title=f"{period.year}年双拥工作计划完成情况",
                headers=["项目", "计划", "完成", "完成率"],
                rows=[
                    [row["label"], str(row["target"]), str(row["done"]), f"{row['percent']}%"] for row in plans["rows"]
                ],
            )
        )
    if paragraphs:
        sections.append(Section("organization", HEADINGS["organization"], paragraphs, tables, []))

    # 二、宣传教育: 板报, 标语, 讲座, 国防教育, 军训.
    acts = figs.get("activities") or {}
    prev_acts = previous.get("activities") or {}
    text = writing._publicity(acts) if acts else ""
    if text:
        counts = acts["counts"]
        rows = []
        for name in writing.PUBLICITY_VERBS:
            if counts.get(name):
                label, word, _ = COUNT_FIELDS[name]
                before = (prev_acts.get("counts") or {}).get(name)
                rows.append([label, f"{counts[name]}{word}", f"{before}{word}" if before else "—"])
        for name in ("training_schools", "training_students"):
            if counts.get(name):
                label, word, _ = COUNT_FIELDS[name]
                before = (prev_acts.get("counts") or {}).get(name)
                rows.append([label, f"{counts[name]}{word}", f"{before}{word}" if before else "—"])
        held = sum(row["count"] for row in acts["by_type"] if row["type"] in writing.PUBLICITY_TYPES)
        before_held = sum(
            row["count"] for row in prev_acts.get("by_type", []) if row["type"] in writing.PUBLICITY_TYPES
        )
        if held and before_held:
            change = compare(held, before_held, counted("项"), same_period=same)
            text = text.replace(f"国防教育活动{held}项", f"国防教育活动{held}项{change}", 1)
        paragraphs = [f"{when}{text}"]
        headers = ["项目", when]
        if any(row[2] != "—" for row in rows):
            headers.append("上年" if period.kind == "year" else "上年同期")
        else:
            rows = [row[:2] for row in rows]
        tables = [Table(title="宣传教育情况", headers=headers, rows=rows)] if rows else []
        sections.append(Section("publicity", HEADINGS["publicity"], paragraphs, tables, []))

    # 三、走访慰问: occasions, people visited, money and goods.
    visits = figs.get("visits") or {}
    if visits:
        text = writing._visits(period, visits)
        prev_visits = previous.get("visits") or {}
        total = f"{when}共开展走访慰问活动{visits['activities']}项"
        if visits.get("people"):
            total += f"，慰问{visits['people']}人次"
        if Decimal(visits["money"]):
            total += f"，发放慰问金{writing.prose_yuan(visits['money'])}"
            if prev_visits:
                total += compare(visits["money"], prev_visits.get("money"), money_word, same_period=same)
        if Decimal(visits["goods_value"]):
            total += f"，慰问品折价{writing.prose_yuan(visits['goods_value'])}"
        paragraphs = [p for p in [text, total + "。"] if p]
        rows = [
            [
                row["label"],
                str(row["activities"]),
                str(row["people"]) if row["people"] else "—",
                str(row["gifts_count"]) if row["gifts_count"] else "—",
                format_yuan(Decimal(row["money"]), unit=""),
                format_yuan(Decimal(row["goods_value"]), unit=""),
            ]
            for row in visits["occasions"]
        ]
        table = Table(
            title="走访慰问情况",
            headers=["时机", "活动（项）", "慰问人数", "慰问单位（个）", "慰问金（元）", "物品折价（元）"],
            rows=rows,
            total=[
                "合计",
                str(visits["activities"]),
                str(sum(row["people"] for row in visits["occasions"])),
                str(sum(row["gifts_count"] for row in visits["occasions"])),
                format_yuan(Decimal(visits["money"]), unit=""),
                format_yuan(Decimal(visits["goods_value"]), unit=""),
            ],
        )
        sections.append(Section("visits", HEADINGS["visits"], paragraphs, [table], []))

    # 四、落实优抚政策: per category people × standard = monthly amount, the year's total, 补发, 立功奖励.
    payments = figs.get("payments") or {}
    if payments:
        paragraphs, table = policy_parts(period, payments, previous.get("payments") or {}, same)
        sections.append(Section("policy", HEADINGS["policy"], paragraphs, [table], []))

    # 五、军民共建.
    pairings = figs.get("pairings") or {}
    if pairings:
        text = writing._pairings(when, me, pairings)
        prev_pairings = previous.get("pairings") or {}
        if pairings.get("joint_activities") and prev_pairings.get("joint_activities"):
            text = (
                text.rstrip("。")
                + compare(
                    pairings["joint_activities"], prev_pairings["joint_activities"], counted("项"), same_period=same
                )
                + "。"
            )
        rows = [
            [label, f"{pairings[name]}{word}"]
            for name, label, word in [
                ("active", "共建对子", "对"),
                ("signed", "新结对", "对"),
                ("agreements", "签订共建协议", "份"),
                ("ended", "结束共建", "对"),
                ("joint_activities", "共建活动", "项"),
                ("joint_soldiers", "参加官兵", "人次"),
            ]
            if pairings.get(name)
        ]
        sections.append(
            Section(
                "joint",
                HEADINGS["joint"],
                [text],
                [Table(title="军民共建情况", headers=["项目", "数量"], rows=rows)],
                [],
            )
        )

    # 六、征兵与安置.
    conscription, placement = figs.get("conscription") or {}, figs.get("placement") or {}
    paragraphs = [p for p in [writing._conscription(conscription), writing._placement(when, placement)] if p]
    if paragraphs:
        rows = []
        for section, fields in [
            (conscription, ("applied", "passed", "final")),
            (placement, ("officers", "soldiers", "spouses")),
        ]:
            names = {**CONSCRIPTION_FIELDS, **PLACEMENT_FIELDS}
            for name in fields:
                if section.get(name):
                    label, word, _ = COUNT_FIELDS[names[name]]
                    rows.append([label, f"{section[name]}{word}"])
        sections.append(
            Section(
                "conscription",
                HEADINGS["conscription"],
                paragraphs,
                [Table(title="征兵与安置情况", headers=["项目", "数量"], rows=rows)],
                [],
            )
        )
    return sections


def payment_name(row, kinds_per_category=None):
    """The category as the payment lines name it: 烈士子女 for the 定期生活补助 of 烈士遗属, else its label."""
    return PAYMENT_NAMES.get((row["category"], row["kind"])) or row["label"]


def months_of(row):
    if row["people"] and row["count"] % row["people"] == 0:
        return row["count"] // row["people"]
    return None


def policy_parts(period, payments, previous, same):
    from reports.summary import Table

    when = writing.period_word(period)
    rows = [row for row in payments["categories"] if Decimal(row["amount"])]
    kinds_per_category = {}
    for row in rows:
        kinds_per_category[row["category"]] = kinds_per_category.get(row["category"], 0) + 1
    items = []
    for row in rows:
        name = payment_name(row)
        # A category paid several kinds names the kind: 残疾军人28人，全年发放残疾抚恤金…；残疾军人10人，…护理费….
        kind = row["kind_label"] if kinds_per_category[row["category"]] > 1 and name == row["label"] else ""
        word = "户" if row["category"] in writing.HOUSEHOLD_CATEGORIES else "人"
        amount = Decimal(row["amount"])
        months = months_of(row)
        rate = Decimal(row["rates"][0]["rate"]) if len(row["rates"]) == 1 else None
        basis = row["rates"][0]["basis"] if len(row["rates"]) == 1 else None
        head = f"{name}{row['people']}{word}"
        if rate is not None and basis == Basis.MONTH:
            monthly = rate * row["people"]
            if months and monthly * months == amount:
                items.append(
                    f"{head}，每{word}每月发放{kind}{plain_yuan(rate)}，月计{plain_yuan(monthly)}，"
                    f"{when}计{plain_yuan(amount)}"
                )
            else:
                # People joined or left: the period's amount, not a 月计 that would not add up (pitfall 2).
                items.append(f"{head}，每{word}每月发放{kind}{plain_yuan(rate)}，{when}计{plain_yuan(amount)}")
        elif rate is not None and basis == Basis.YEAR:
            label = row["kind_label"] if row["category"] in writing.HOUSEHOLD_CATEGORIES else f"{name}{kind}"
            items.append(f"{label}标准为每{word}每年{plain_yuan(rate)}，{row['people']}{word}共计{plain_yuan(amount)}")
        else:
            items.append(f"{head}，{when}发放{kind}{plain_yuan(amount)}")
    paragraphs = []
    if items:
        paragraphs.append("；".join(items) + "。")
    # 全年累计: the ledger's total of the period, every paid row counted once.
    total = Decimal(payments["amount"])
    parts = []
    if Decimal(payments["backpay_amount"]):
        parts.append(f"补发{plain_yuan(Decimal(payments['backpay_amount']))}")
    if Decimal(payments["award_amount"]):
        parts.append(f"立功奖励{plain_yuan(Decimal(payments['award_amount']))}")
    others = Decimal(payments["one_off_amount"]) - Decimal(payments["award_amount"])
    if others:
        parts.append(f"其他一次性发放{plain_yuan(others)}")
    cumulative = "全年累计发放" if period.kind == "year" else f"{when}累计发放"
    text = f"{cumulative}各项优抚资金{plain_yuan(total)}"
    if parts:
        text += f"，其中抚恤补助{plain_yuan(Decimal(payments['regular_amount']))}、" + "、".join(parts)
    if previous and previous.get("amount"):
        text += compare(total, previous["amount"], lambda v: plain_yuan(v), same_period=same)
    text += f"，涉及优抚对象{payments['people']}人。"
    paragraphs.append(text)
    backpay = [row for row in payments["categories"] if Decimal(row["backpay_amount"])]
    if backpay:
        listing = "、".join(
            f"{payment_name(row, kinds_per_category)}{row['backpay_people']}人"
            f"{plain_yuan(Decimal(row['backpay_amount']))}"
            for row in backpay
        )
        paragraphs.append(f"因标准调整，补发{listing}。")
    award = next((row for row in payments["one_offs"] if row["kind"] == PaymentKind.AWARD), None)
    if award and Decimal(award["amount"]):
        paragraphs.append(
            f"为立功受奖军人家庭发放立功奖励{award['people']}人，计{plain_yuan(Decimal(award['amount']))}。"
        )

    table_rows = []
    for row in rows:
        table_rows.append(
            [
                payment_name(row, kinds_per_category),
                row["kind_label"],
                str(row["people"]),
                _rates_cell(row),
                format_yuan(Decimal(row["amount"]), unit=""),
                format_yuan(Decimal(row["backpay_amount"]), unit="") if Decimal(row["backpay_amount"]) else "—",
            ]
        )
    for row in payments["one_offs"]:
        if Decimal(row["amount"]):
            table_rows.append(
                [row["label"], "一次性", str(row["people"]), "—", format_yuan(Decimal(row["amount"]), unit=""), "—"]
            )
    table = Table(
        title=f"{period.label}优抚资金发放情况",
        headers=["类别", "项目", "人数", "标准", "金额（元）", "补发（元）"],
        rows=table_rows,
        total=[
            "合计",
            "",
            str(payments["people"]),
            "",
            format_yuan(total, unit=""),
            format_yuan(Decimal(payments["backpay_amount"]), unit=""),
        ],
    )
    return paragraphs, table


def _rates_cell(row):
    if not row["rates"]:
        return "—"
    labels = dict(Basis.choices)
    return "；".join(f"{labels.get(r['basis'], '')}{plain_yuan(Decimal(r['rate']))}" for r in row["rates"])


# The occasion report (001 篇4)


def occasion_items(activities):
    """What the occasion's activities gave, one list line each: the units given to by one activity (troops of
    several activities together), registry recipients per category, recipient groups per description.

    [(label, count text, money, goods value)]; the money of the lines adds up to the occasion's 合计."""
    ids = activities.values("pk")
    troops, units = [], {}
    gifts = (
        Gift.objects.filter(activity__in=ids).select_related("recipient_unit").order_by("activity__start_date", "pk")
    )
    for gift in gifts:
        military = gift.recipient_unit is not None and gift.recipient_unit.kind in MILITARY_KINDS
        (troops if military else units.setdefault(gift.activity_id, [])).append(gift)
    items = [_gift_item(troops, "驻地部队和共建力量")] if troops else []
    items += [_gift_item(rows, "单位") for rows in units.values()]
    by_category = {}
    recipients = (
        Recipient.objects.filter(activity__in=ids)
        .select_related("beneficiary")
        .prefetch_related("beneficiary__entitlements")
        .order_by("pk")
    )
    labels = dict(Category.choices)
    for recipient in recipients:
        categories = sorted(e.category for e in recipient.beneficiary.entitlements.all())
        label = labels.get(categories[0], "优抚对象") if categories else "优抚对象"
        row = by_category.setdefault(label, {"people": set(), "count": 0, "money": Decimal(0), "goods": Decimal(0)})
        row["people"].add(recipient.beneficiary_id)
        row["count"] += 1
        row["money"] += recipient.amount
        row["goods"] += recipient.goods_value or 0
    for label, row in by_category.items():
        word = "人" if len(row["people"]) == row["count"] else "人次"
        items.append((label, f"{row['count']}{word}", row["money"], row["goods"]))
    groups = RecipientGroup.objects.filter(activity__in=ids).order_by("activity__start_date", "pk")
    for group in groups:
        items.append((group.description, f"{group.people}人", group.money, group.goods_value or Decimal(0)))
    return items


def _gift_item(rows, noun):
    """ "73026部队" for one gift; "A、B、C等16个单位" for several."""
    names = []
    for gift in rows:
        name = gift.recipient_unit.name if gift.recipient_unit else gift.recipient_name
        if name and name not in names:
            names.append(name)
    money = sum((gift.money for gift in rows), Decimal(0))
    goods = sum((gift.goods_value or Decimal(0) for gift in rows), Decimal(0))
    if len(rows) == 1:
        return (names[0] if names else noun, "", money, goods)
    return ("、".join(names[:GIFT_NAMES_SHOWN]), f"等{len(rows)}个{noun}", money, goods)


def occasion_parts(unit, period, figs, activities):
    from reports.summary import Section, Table

    word = writing.occasion_word(period.occasion)
    me = writing.self_word(unit)
    visits = figs.get("visits") or {}
    row = next((r for r in visits.get("occasions", []) if r["occasion"] == period.occasion), None)
    sections = []
    if row is None:
        opening = f"{period.year}年{word}期间，{me}未登记走访慰问活动。"
        return opening, sections, []
    whom = []
    if row["gifts_count"]:
        whom.append(f"部队和单位{row['gifts_count']}个")
    if row["recipients_people"]:
        whom.append(f"优抚对象{row['recipients_people']}人次")
    if row["groups_people"]:
        whom.append(f"各类群体{row['groups_people']}人")
    opening = (
        f"在{word}来临之际，{me}共开展走访慰问活动{row['activities']}项"
        + (f"，慰问{'、'.join(whom)}" if whom else "")
        + "。现将"
        + f"{word}期间走访慰问情况总结如下："
    )
    items = occasion_items(activities)
    yuan = writing.list_yuan([str(item[2]) for item in items] + [row["money"]])
    total = Decimal(row["money"])
    lines = ["慰问对象及金额如下："]
    for n, (label, count, amount, goods) in enumerate(items, start=1):
        given = f"共计{yuan(amount)}" if amount else f"送去慰问品折价{yuan(goods)}"
        lines.append(f"{n}、{label}{count}，{given}；")
    lines.append(f"合计{yuan(total)}。")
    if Decimal(row["goods_value"]):
        lines.append(f"另送慰问品折价{yuan(row['goods_value'])}。")
    table = Table(
        title=f"{period.year}年{word}慰问对象及金额",
        headers=["序号", "慰问对象", "数量", "金额"],
        rows=[[str(n), label, count, yuan(amount)] for n, (label, count, amount, _) in enumerate(items, start=1)],
        total=["合计", "", "", yuan(total)],
    )
    sections.append(Section("occasion_list", OCCASION_HEADINGS["occasion_list"], lines, [table], []))
    # The sub-units' own visits: per unit directly below, what their subtree did.
    children = list(unit.children.all()) if hasattr(unit, "children") else []
    unit_rows = []
    for child in children:
        child_acts = activities.filter(unit__path__startswith=child.path)
        n = child_acts.count()
        if n:
            given = sum((a.money for a in child_acts), Decimal(0))
            unit_rows.append([child.name, str(n), format_yuan(given, unit="")])
    if unit_rows:
        sections.append(
            Section(
                "occasion_units",
                OCCASION_HEADINGS["occasion_units"],
                [f"各下属单位结合实际开展慰问，{len(unit_rows)}个单位登记了{word}走访慰问活动。"],
                [Table(title="各单位慰问情况", headers=["单位", "活动（项）", "慰问金（元）"], rows=unit_rows)],
                [],
            )
        )
    return opening, sections, recipient_appendix(activities)


# Appendix and charts


def payment_appendix(figs):
    from reports.summary import Table

    payments = figs.get("payments") or {}
    if not payments:
        return []
    rows = []
    for row in payments["categories"]:
        if not Decimal(row["total"]):
            continue
        months = months_of(row)
        rows.append(
            [
                row["label"],
                row["kind_label"],
                str(row["people"]),
                _rates_cell(row),
                str(months) if months is not None else f"{row['count']}人月",
                format_yuan(Decimal(row["total"]), unit=""),
            ]
        )
    return [
        Table(
            title="附表1 优抚资金发放明细（按类别）",
            headers=["类别", "项目", "人数", "标准", "月数", "金额（元）"],
            rows=rows,
            total=[
                "合计",
                "",
                str(payments["people"]),
                "",
                "",
                format_yuan(Decimal(payments["regular_amount"]) + Decimal(payments["backpay_amount"]), unit=""),
            ],
        )
    ]


def recipient_appendix(activities):
    from reports.summary import Table

    recipients = (
        Recipient.objects.filter(activity__in=activities.values("pk"))
        .select_related("beneficiary", "beneficiary__township", "activity")
        .order_by("activity__start_date", "beneficiary__township__path", "pk")
    )
    rows = []
    for recipient in recipients[: RECIPIENTS_SHOWN + 1]:
        person = recipient.beneficiary
        rows.append(
            [
                str(len(rows) + 1),
                person.name,
                mask_id_number(person.id_number),
                person.township.name if person.township_id else "",
                recipient.activity.start_date.strftime("%Y-%m-%d"),
                format_yuan(recipient.amount, unit=""),
            ]
        )
    if not rows:
        return []
    title = "附表 慰问对象名单"
    if len(rows) > RECIPIENTS_SHOWN:
        rows = rows[:RECIPIENTS_SHOWN]
        title += f"（前{RECIPIENTS_SHOWN}人次）"
    return [Table(title=title, headers=["序号", "姓名", "身份证号", "乡镇", "日期", "慰问金（元）"], rows=rows)]


def charts_of(figs, activities, period):
    payments = figs.get("payments") or {}
    money = []
    for row in payments.get("categories", []):
        if Decimal(row["total"]):
            money.append((row["label"], Decimal(row["total"])))
    merged = {}
    for label, value in money:
        merged[label] = merged.get(label, Decimal(0)) + value
    months = []
    if period.kind != "occasion" and (figs.get("activities") or {}):
        data = activities_by_month_and_type(activities=activities, year=period.year)
        last = period.end.month
        months = [(f"{row['month']}月", row["total"]) for row in data["months"] if row["month"] <= last]
    return {"money_by_category": list(merged.items()), "activities_by_month": months}
