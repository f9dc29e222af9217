"""Writes of the year-end summaries: people's paragraphs beside the generated text, and 定稿 (finalizing).

Who may write: the office for any unit in its scope; a liaison only for its own unit's summary (not the units
below it, and never the county's); leaders read only. A Summary row is created the first time someone saves
edits or finalizes; reading works without one.

A finalized summary cannot be edited. Its 定稿 (SummaryVersion) holds the document JSON, the figures and the PDF
bytes and never changes. To change the text, the office or the unit's liaison reopens the summary (a reason is
kept in its history); the edits then go to the working copy, and the next 定稿 becomes version n+1, while the
earlier versions stay as they were. We chose reopening over silently starting a new draft so that the state is
always visible: “已定稿” means the current text is exactly the last version, nothing is pending behind it.
"""

import json
import re

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Max

from units.constants import Role
from units.permissions import in_scope, memberships

from . import figures as report_figures
from .constants import SummaryKind, SummaryStatus
from .models import Summary, SummaryVersion

MAX_PARAGRAPH = 2000  # characters in one paragraph
MAX_PARAGRAPHS = 50  # paragraphs in one section
MAX_TEXT = 10000  # characters of 存在的不足 or 下一步工作计划
FREE_TEXT_KEYS = {"shortcomings", "next_plan"}
SECTION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
NOT_YOURS = "该总结不在您可以修改的范围内。"
LOCKED = "该总结已定稿，不能直接修改；如需修改，请先“重新打开”，修改后再次定稿将生成新的版本。"
FIELD_LABELS = {"shortcomings": "存在的不足", "next_plan": "下一步工作计划"}


def shape_period(*, shape, year):
    from .summary import shape_period as writer_shape_period

    return writer_shape_period(shape=shape, year=year)


def kind_and_occasion(shape):
    """The Summary row's (kind, occasion) for a URL shape; the shape was checked by shape_period."""
    if shape in (SummaryKind.ANNUAL, SummaryKind.HALF):
        return shape, ""
    return SummaryKind.OCCASION, shape


def can_edit(user, unit):
    """The office of a scope holding the unit, or a liaison of exactly this unit (mirrors editable_by)."""
    if user is None or unit is None:
        return False
    if in_scope(user, unit, roles=[Role.OFFICE]):
        return True
    return any(role == Role.LIAISON and path == unit.path for path, role, _ in memberships(user))


def _check_editor(user, summary):
    if not can_edit(user, summary.unit):
        raise ValidationError(NOT_YOURS)


def summary_for(*, unit, year, shape, user):
    """The summary to edit: the saved row, or a new unsaved one (saved on the first edit or 定稿).

    Raises ValidationError when the shape is not a summary's or the user may not edit the unit's summary."""
    if shape_period(shape=shape, year=year) is None:
        raise ValidationError("没有这种总结。")
    if not can_edit(user, unit):
        raise ValidationError(NOT_YOURS)
    kind, occasion = kind_and_occasion(shape)
    found = Summary.objects.filter(unit=unit, kind=kind, year=year, occasion=occasion).first()
    return found or Summary(unit=unit, kind=kind, year=year, occasion=occasion, created_by=user)


def period_of(summary):
    return shape_period(shape=summary.shape, year=summary.year)


# Cleaning what people typed


def split_paragraphs(text):
    """One paragraph a line: each trimmed (also of full-width spaces), empty ones dropped."""
    return [line.strip().strip("\u3000").strip() for line in (text or "").splitlines() if line.strip(" \t\u3000")]


def clean_paragraphs(label, paragraphs):
    cleaned = [p.strip().strip("\u3000").strip() for p in paragraphs if isinstance(p, str)]
    cleaned = [p for p in cleaned if p]
    if len(cleaned) > MAX_PARAGRAPHS:
        raise ValidationError(f"“{label}”最多{MAX_PARAGRAPHS}段（现有{len(cleaned)}段），请合并或删减。")
    for number, paragraph in enumerate(cleaned, start=1):
        if len(paragraph) > MAX_PARAGRAPH:
            raise ValidationError(
                f"“{label}”第{number}段有{len(paragraph)}字，每段最多{MAX_PARAGRAPH}字，请分段或删减。"
            )
    return cleaned


def clean_text(key, text):
    label = FIELD_LABELS[key]
    text = "\n".join(split_paragraphs(text))
    if len(text) > MAX_TEXT:
        raise ValidationError({key: f"“{label}”有{len(text)}字，最多{MAX_TEXT}字，请删减。"})
    return text


def clean_edits(edits, labels=None):
    """{section key: [paragraphs]} with each list cleaned; sections left with nothing are dropped."""
    labels = labels or {}
    result = {}
    for key, paragraphs in (edits or {}).items():
        if not isinstance(key, str) or not SECTION_KEY.match(key) or key in FREE_TEXT_KEYS:
            raise ValidationError(f"没有“{key}”这一部分。")
        if isinstance(paragraphs, str):
            paragraphs = split_paragraphs(paragraphs)
        cleaned = clean_paragraphs(labels.get(key, key), paragraphs or [])
        if cleaned:
            result[key] = cleaned
    return result


def _lock(summary):
    return Summary.objects.select_for_update().select_related("unit").get(pk=summary.pk)


def _save_new(summary, by):
    """Save a new summary row; a concurrent first save of the same summary wins and is returned locked."""
    row = Summary(
        unit=summary.unit,
        kind=summary.kind,
        year=summary.year,
        occasion=summary.occasion,
        created_by=summary.created_by or by,
        updated_by=by,
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        row = Summary.objects.get(unit=summary.unit, kind=summary.kind, year=summary.year, occasion=summary.occasion)
    return _lock(row)


# Writes


@transaction.atomic
def summary_edit(*, summary, edits, shortcomings, next_plan, edited_by, labels=None):
    """Save people's paragraphs per section, 存在的不足 and 下一步工作计划 (all or nothing).

    `edits` is {section key: [paragraphs] or a text with one paragraph a line}; `labels` names the sections in
    messages. A finalized summary must be reopened first."""
    _check_editor(edited_by, summary)
    cleaned = clean_edits(edits, labels)
    texts = {"shortcomings": clean_text("shortcomings", shortcomings), "next_plan": clean_text("next_plan", next_plan)}
    locked = _lock(summary) if summary.pk else _save_new(summary, edited_by)
    if locked.status == SummaryStatus.FINAL:
        raise ValidationError(LOCKED)
    locked.edits = cleaned
    locked.shortcomings = texts["shortcomings"]
    locked.next_plan = texts["next_plan"]
    locked.updated_by = edited_by
    locked._change_reason = "修改"
    locked.save()
    return _done(summary, locked)


@transaction.atomic
def summary_reopen(*, summary, reason, reopened_by):
    """Let a finalized summary be edited again; its versions stay as they were. The reason goes to its history."""
    _check_editor(reopened_by, summary)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": "请填写重新打开的原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "原因最多200字。"})
    if not summary.pk:
        raise ValidationError("该总结尚未定稿。")
    locked = _lock(summary)
    if locked.status != SummaryStatus.FINAL:
        raise ValidationError("该总结尚未定稿，可以直接修改。")
    locked.status = SummaryStatus.DRAFT
    locked.updated_by = reopened_by
    locked._change_reason = f"重新打开：{reason}"
    locked.save()
    return _done(summary, locked)


def render_pdf_bytes(doc):
    """The summary PDF of a document, by the pages' renderer (P); the shared template while it is missing."""
    try:
        from .summary_render import render_summary_pdf
    except ImportError:  # pragma: no cover - until reports/summary_render.py exists
        from shuangyong.lib.pdf import render_pdf

        return render_pdf("pdf/summary.html", {"doc": doc})
    return render_summary_pdf(doc)


@transaction.atomic
def summary_finalize(*, summary, finalized_by):
    """定稿: freeze the document as it reads now (JSON), its figures and its PDF as version n+1; status final."""
    from .summary import build_document, document_to_json

    _check_editor(finalized_by, summary)
    locked = _lock(summary) if summary.pk else _save_new(summary, finalized_by)
    if locked.status == SummaryStatus.FINAL:
        raise ValidationError("该总结已定稿，数据或文字没有再修改，无需再次定稿。")
    period = period_of(locked)
    doc = build_document(unit=locked.unit, period=period, summary=locked)
    if doc.is_draft:
        raise ValidationError(f"{period.label}尚未结束，不能定稿；可以先修改文字，期满后再定稿。")
    pdf = render_pdf_bytes(doc)
    number = (locked.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = SummaryVersion(
        summary=locked,
        number=number,
        document=document_to_json(doc),
        figures=_plain(doc.figures),
        finalized_by=finalized_by,
    )
    version.pdf.save(f"summary-{locked.pk}-v{number}.pdf", ContentFile(pdf), save=False)
    version.save()
    locked.status = SummaryStatus.FINAL
    locked.updated_by = finalized_by
    locked._change_reason = f"定稿（第{number}版）"
    locked.save()
    _done(summary, locked)
    return version


def _plain(figures):
    """The figures as JSON keeps them (figures() is JSON-safe already; this drops tuples and Decimals' types)."""
    return json.loads(json.dumps(figures or {}, cls=DjangoJSONEncoder))


def _done(summary, locked):
    """Bring the caller's object up to date with what was saved under the lock."""
    summary.pk = locked.pk
    summary.refresh_from_db()
    return summary


# Reads


def latest_version(summary):
    if not summary.pk:
        return None
    return summary.versions.order_by("-number").first()


def live_figures(summary):
    return report_figures.figures(unit=summary.unit, period=period_of(summary))


def version_diff(*, version):
    """What changed in the data since the 定稿: [(section, label, figure then, figure now)] (figures_diff)."""
    frozen = {key: value for key, value in (version.figures or {}).items() if key != "previous"}
    return report_figures.figures_diff(frozen, _plain(live_figures(version.summary)))
