"""Payment exports: the bank file (发放名册), the 签领表 PDF, the ledger and the yearly summary as .xlsx."""

from django.utils import timezone

from shuangyong.lib import excel
from shuangyong.lib.idcard import mask_bank_account, mask_id_number
from shuangyong.lib.money import ZERO, capital_yuan
from shuangyong.lib.pdf import render_pdf

from . import selectors
from .constants import AccessKind, PayMethod
from .models import AccessLog

CHUNK_SIZE = 2000
# A ledger export is written while the user waits; more rows than this must be narrowed by the filters first.
LEDGER_EXPORT_MAX_ROWS = 100_000
PAY_METHOD_LABELS = dict(PayMethod.choices)


def _now():
    return timezone.localtime().replace(tzinfo=None, microsecond=0)


def _categories(codes):
    return "、".join(dict.fromkeys(selectors.category_label(code) for code in codes))


def roster_remark(line):
    """What the 备注 column says about a person's line: the months, and 补发 or a re-issue when there is one."""
    parts = [selectors.months_text(line["first"], line["last"], annual=line["annual"] == line["count"])]
    if line["backpay"]:
        parts.append("补发")
    if line["reissue"]:
        parts.append("退回重发")
    if not line["bank_account"]:
        parts.append("无银行账号")
    return "，".join(parts)


# 发放名册 (bank file)

BANK_HEADER = ["序号", "姓名", "身份证号", "开户银行", "账号", "金额", "乡镇", "类别", "备注"]
BANK_WIDTHS = [6, 10, 22, 26, 24, 12, 14, 24, 30]
BANK_TEXT_COLUMNS = [BANK_HEADER.index(label) + 1 for label in ("身份证号", "账号")]


def bank_file_workbook(*, batch, unmasked, exported_by):
    """Return the .xlsx of a batch's 发放名册: one line per person, masked unless `unmasked`, and the total."""

    def lines():
        total, people = ZERO, 0
        for people, line in enumerate(selectors.batch_roster(batch=batch), start=1):  # noqa: B007 (used after)
            total += line["amount"]
            yield [
                people,
                line["name"],
                line["id_number"] if unmasked else mask_id_number(line["id_number"]),
                line["bank_name"],
                line["bank_account"] if unmasked else mask_bank_account(line["bank_account"]),
                line["amount"],
                line["township"],
                _categories(line["categories"]),
                roster_remark(line),
            ]
        yield ["", "合计", "", "", "", total, "", f"{people}人", capital_yuan(total)]

    about = [
        ["批次", batch.title],
        ["发放单位", batch.unit.name],
        ["批次状态", batch.get_status_display()],
        ["导出时间", _now()],
        ["导出人", exported_by],
        ["身份证号、账号", "未脱敏（已记录查看日志，请妥善保管）" if unmasked else "已脱敏"],
    ]
    return excel.write_workbook(
        [
            excel.Sheet(
                title="发放名册", header=BANK_HEADER, rows=lines(), widths=BANK_WIDTHS, text_columns=BANK_TEXT_COLUMNS
            ),
            excel.Sheet(title="导出说明", rows=about, widths=[18, 60]),
        ]
    )


def bank_file_name(batch, *, unmasked):
    return f"{batch.title}发放名册{'（未脱敏）' if unmasked else ''}.xlsx"


def bank_file_log(*, user, batch, people, ip_address=None):
    """Write the access-log row of an unmasked bank file."""
    return AccessLog.objects.create(
        user=user,
        unit=batch.unit,
        kind=AccessKind.EXPORT_UNMASKED,
        detail=f"发放名册：{batch.title}；共 {people} 人"[:200],
        ip_address=ip_address or None,
    )


# 签领表 (PDF for cash)

SIGN_ROWS_PER_PAGE = 12


def _short_months(line):
    first, last = line["first"], line["last"]
    if line["annual"] == line["count"] and first.year == last.year:
        return "全年"
    if first == last:
        return f"{first.month}月"
    if first.year == last.year:
        return f"{first.month}—{last.month}月"
    return selectors.months_text(first, last)


def sign_sheet_sections(*, batch, per_page=SIGN_ROWS_PER_PAGE):
    """Split a batch's people into pages per township, each page with its subtotal, each township with its total.

    [{"township", "people", "total", "total_capital", "pages": [{"number", "lines", "subtotal", "subtotal_capital"}]}]
    """
    sections = []
    for line in selectors.batch_roster(batch=batch):
        if not sections or sections[-1]["township"] != line["township"]:
            sections.append({"township": line["township"], "people": 0, "total": ZERO, "pages": []})
        section = sections[-1]
        if not section["pages"] or len(section["pages"][-1]["lines"]) == per_page:
            section["pages"].append({"lines": [], "subtotal": ZERO})
        page = section["pages"][-1]
        section["people"] += 1
        section["total"] += line["amount"]
        page["subtotal"] += line["amount"]
        page["lines"].append(
            {
                "number": section["people"],
                "name": line["name"],
                "id_number": mask_id_number(line["id_number"]),
                "categories": _categories(line["categories"]),
                "months": _short_months(line),
                "amount": line["amount"],
                "capital": capital_yuan(line["amount"]),
                "remark": "补发" if line["backpay"] else ("退回重发" if line["reissue"] else ""),
            }
        )
    for section in sections:
        section["total_capital"] = capital_yuan(section["total"])
        for number, page in enumerate(section["pages"], start=1):
            page["number"] = number
            page["subtotal_capital"] = capital_yuan(page["subtotal"])
    return sections


def sign_sheet_pdf(*, batch):
    sections = sign_sheet_sections(batch=batch)
    total = sum((section["total"] for section in sections), ZERO)
    return render_pdf(
        "payments/sign_sheet_pdf.html",
        {
            "batch": batch,
            "title": f"{batch.title}签领表",
            "sections": sections,
            "people": sum(section["people"] for section in sections),
            "total": total,
            "total_capital": capital_yuan(total),
            "today": timezone.localdate(),
        },
    )


# Ledger

LEDGER_HEADER = [
    "所属月份",
    "姓名",
    "身份证号",
    "乡镇（街道）",
    "发放类别",
    "优抚类别",
    "月数",
    "标准（元）",
    "金额（元）",
    "补发",
    "批次",
    "发放日期",
    "发放方式",
    "退回日期",
    "退回原因",
    "用途",
]
LEDGER_WIDTHS = [10, 10, 22, 14, 16, 22, 6, 11, 12, 6, 30, 12, 8, 12, 20, 24]


def ledger_workbook(*, payments, totals, description, exported_by):
    """Return the .xlsx of the filtered ledger rows (IDs masked), a total row, and the totals by kind and category."""
    rows = payments.order_by(
        "-month", "township__path", "beneficiary__name", "beneficiary_id", "kind", "pk"
    ).values_list(
        "month",
        "beneficiary__name",
        "beneficiary__id_number",
        "township__name",
        "kind",
        "category",
        "months",
        "rate",
        "amount",
        "is_backpay",
        "batch__title",
        "paid_on",
        "method",
        "returned_on",
        "returned_reason",
        "purpose",
    )

    def lines():
        for row in rows.iterator(chunk_size=CHUNK_SIZE):
            (month, name, id_number, township, kind, category, months, rate, amount, backpay, batch) = row[:11]
            paid_on, method, returned_on, returned_reason, purpose = row[11:]
            yield [
                f"{month:%Y-%m}",
                name,
                mask_id_number(id_number),
                township,
                selectors.KIND_LABELS.get(kind, kind),
                selectors.category_label(category) if category else "",
                months,
                rate,
                amount,
                "是" if backpay else "",
                batch or "",
                paid_on,
                PAY_METHOD_LABELS.get(method, method),
                returned_on,
                returned_reason,
                purpose,
            ]
        yield ["合计（不含退回）", "", "", "", "", "", "", "", totals["amount"], "", f"{totals['count']}笔"]

    summary = [["筛选条件", description], ["导出时间", _now()], ["导出人", exported_by], []]
    summary.append(["发放类别", "人数", "笔数", "金额（元）"])
    summary += [[row["label"], row["people"], row["count"], row["amount"]] for row in totals["by_kind"]]
    summary.append([])
    summary.append(["优抚类别", "人数", "笔数", "金额（元）"])
    summary += [[row["label"], row["people"], row["count"], row["amount"]] for row in totals["by_category"]]
    summary.append([])
    summary.append(["合计", totals["people"], totals["count"], totals["amount"]])
    return excel.write_workbook(
        [
            excel.Sheet(title="发放台账", header=LEDGER_HEADER, rows=lines(), widths=LEDGER_WIDTHS, text_columns=[3]),
            excel.Sheet(title="汇总", rows=summary, widths=[24, 40, 10, 16]),
        ]
    )


def describe_ledger_filters(form, filters):
    """Return the ledger's filters in words for the workbook: the months and state applied, then the rest."""
    states = dict(form.fields["state"].choices)
    first, last = (f"{filters[key]:%Y-%m}" if filters[key] else "不限" for key in ("month_from", "month_to"))
    parts = [f"所属月份={first}至{last}", f"状态={states[filters['state']]}"]
    for name, value in getattr(form, "cleaned_data", {}).items():
        if value in (None, "", False) or name in ("month_from", "month_to", "state"):
            continue
        field = form.fields[name]
        if isinstance(value, bool):
            shown = "是"
        elif hasattr(field, "choices") and not hasattr(value, "pk"):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        parts.append(f"{field.label}={shown}")
    return "；".join(parts)


# Yearly summary

SUMMARY_HEADER = [
    "优抚类别",
    "发放类别",
    "人数",
    "人月（笔）",
    "金额（元）",
    "补发人数",
    "补发金额（元）",
    "合计（元）",
]


def summary_workbook(*, summary, title):
    """Return the .xlsx of a yearly summary, laid out as the page shows it."""
    rows = [
        [
            row["category_label"],
            row["kind_label"],
            row["people"],
            row["count"],
            row["amount"],
            row["backpay_people"],
            row["backpay_amount"],
            row["total"],
        ]
        for row in summary["regular"]
    ]
    rows.append([])
    rows.append(["定期发放小计", "发放类别", "人数", "", "金额（元）", "补发人数", "补发金额（元）", "合计（元）"])
    rows += [
        ["", k["label"], k["people"], "", k["amount"], k["backpay_people"], k["backpay_amount"], k["total"]]
        for k in summary["regular_kinds"]
    ]
    rows.append([])
    rows.append(["一次性发放", "发放类别", "人数", "笔数", "金额（元）"])
    rows += [["", o["label"], o["people"], o["count"], o["amount"]] for o in summary["one_offs"]]
    rows.append([])
    rows.append(["总计", "", summary["people"], summary["count"], summary["amount"]])
    return excel.write_workbook(
        [
            excel.Sheet(
                title=f"{summary['year']}年度汇总", header=SUMMARY_HEADER, rows=rows, widths=[26, 18] + [14] * 6
            ),
            excel.Sheet(title="说明", rows=[["标题", title], ["导出时间", _now()]], widths=[12, 60]),
        ]
    )
