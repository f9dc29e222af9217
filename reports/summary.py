"""The year-end 工作总结 as a document: sections of prose and tables written from `reports.figures`.

The shape follows the real summaries (shared/summary-shapes.md): a title, an opening paragraph, 一、加强组织领导 …
六、征兵与安置, then 存在的不足 and 下一步工作计划; an occasion report lists what was given with one 合计.
A section with no data is left out. Pages, PDF and Excel (reports/summary_views.py, summary_render.py) and the
editing (reports/summary_services.py) read the Document built here.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.utils import timezone

from activities.constants import Occasion
from reports.figures import HALF_WORDS, Period

OCCASIONS = {value for value, _ in Occasion.choices if value}
SHAPES = {"annual", "half", *OCCASIONS}


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    total: list[str] | None = None


@dataclass
class Section:
    key: str
    heading: str
    paragraphs: list[str]
    tables: list[Table] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    issuer: str
    date: str
    opening: str
    sections: list[Section]
    charts: dict
    appendix: list[Table]
    is_draft: bool
    figures: dict


def shape_period(*, shape, year):
    """The Period a URL's shape names: annual -> the year, half -> its first half, an Occasion value -> that
    occasion of the year; None for anything else."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        return None
    if not 1900 <= year <= 2999:
        return None
    if shape == "annual":
        return Period.year_of(year)
    if shape == "half":
        return Period.half(year, 1)
    if shape in OCCASIONS:
        return Period.occasion_of(year, shape)
    return None


def section_headings():
    """{key: heading} of the annual sections in their order (without numbers), for forms that edit them."""
    from reports.summary_prose import HEADINGS, SECTION_KEYS

    return {key: HEADINGS[key] for key in SECTION_KEYS}


def build_document(*, unit, period, summary=None, today=None):
    """The document of the unit's scope for the period, with the summary's edits, 存在的不足 and 下一步工作计划."""
    from reports import summary_prose

    return summary_prose.build(unit=unit, period=period, summary=summary, today=today or timezone.localdate())


def document_to_json(doc):
    """The document as JSON-safe data (charts' amounts as strings)."""
    data = asdict(doc)
    data["charts"] = {
        name: [[label, str(value) if isinstance(value, Decimal) else value] for label, value in rows]
        for name, rows in doc.charts.items()
    }
    return data


def document_from_json(data):
    def table(row):
        return Table(
            title=row["title"],
            headers=list(row["headers"]),
            rows=[list(r) for r in row["rows"]],
            total=list(row["total"]) if row.get("total") is not None else None,
        )

    charts = {}
    for name, rows in (data.get("charts") or {}).items():
        charts[name] = [(label, Decimal(value) if name.startswith("money") else value) for label, value in rows]
    return Document(
        title=data["title"],
        issuer=data["issuer"],
        date=data["date"],
        opening=data["opening"],
        sections=[
            Section(
                key=s["key"],
                heading=s["heading"],
                paragraphs=list(s["paragraphs"]),
                tables=[table(t) for t in s.get("tables", [])],
                edited=list(s.get("edited", [])),
            )
            for s in data["sections"]
        ],
        charts=charts,
        appendix=[table(t) for t in data.get("appendix", [])],
        is_draft=bool(data["is_draft"]),
        figures=data.get("figures") or {},
    )


def data_key(doc):
    """A fingerprint of the document: sha256 of its JSON. The PDF cache and the 定稿 diff compare it."""
    text = json.dumps(document_to_json(doc), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def chinese_date(date):
    return f"{date.year}年{date.month}月{date.day}日"


def half_word(number):
    return HALF_WORDS.get(number, "上")


__all__ = [
    "Document",
    "Section",
    "Table",
    "build_document",
    "chinese_date",
    "data_key",
    "document_from_json",
    "document_to_json",
    "section_headings",
    "shape_period",
]
