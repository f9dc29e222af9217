"""Editing and 定稿 of the summaries: people's paragraphs beside the generated ones, who may write, and frozen
versions that never change when the data do."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from reports import summary_services as services
from reports.constants import SummaryStatus
from reports.models import Summary
from reports.summary import build_document, document_to_json
from reports.tests.report_data import frozen, meeting, visit

D = datetime.date


@pytest.fixture(autouse=True)
def today():
    with frozen():
        yield


@pytest.fixture
def logged(township, office):
    visit(township, office, D(2025, 7, 28), money="3000", people=30)
    meeting(township, office, D(2025, 3, 15))


def _edit(summary, by, **kwargs):
    values = {"edits": {}, "shortcomings": "", "next_plan": ""}
    return services.summary_edit(summary=summary, edited_by=by, **{**values, **kwargs})


def _section(doc, key):
    return next(section for section in doc.sections if section.key == key)


def test_edits_are_cleaned_and_appear_beside_the_generated_text(logged, township, office):
    summary = services.summary_for(unit=township, year=2025, shape="annual", user=office)
    assert summary.pk is None  # nothing is saved until someone edits
    _edit(
        summary,
        office,
        edits={"visits": "  走访中，镇领导逐一送上慰问金。 \n\n\u3000\u3000\n 第二段。"},
        shortcomings="  宣传形式较为单一。\n\n",
        next_plan="做好元旦春节走访慰问。",
    )
    summary = Summary.objects.get(unit=township, year=2025, kind="annual")
    assert summary.edits == {"visits": ["走访中，镇领导逐一送上慰问金。", "第二段。"]}
    assert summary.shortcomings == "宣传形式较为单一。"
    assert summary.created_by == office and summary.updated_by == office
    doc = build_document(unit=township, period=services.period_of(summary), summary=summary)
    visits = _section(doc, "visits")
    assert visits.paragraphs, "the generated paragraphs stay"
    assert visits.edited == ["走访中，镇领导逐一送上慰问金。", "第二段。"]
    assert "走访中，镇领导逐一送上慰问金。" not in visits.paragraphs
    text = str(document_to_json(doc))
    assert "宣传形式较为单一。" in text and "做好元旦春节走访慰问。" in text


def test_a_paragraph_too_long_is_refused_with_a_clear_message(township, office):
    summary = services.summary_for(unit=township, year=2025, shape="annual", user=office)
    with pytest.raises(ValidationError) as error:
        _edit(summary, office, edits={"visits": ["短段。", "字" * (services.MAX_PARAGRAPH + 1)]}, labels=None)
    assert f"第2段有{services.MAX_PARAGRAPH + 1}字，每段最多{services.MAX_PARAGRAPH}字" in error.value.messages[0]
    with pytest.raises(ValidationError):
        _edit(summary, office, shortcomings="不" * (services.MAX_TEXT + 1))
    with pytest.raises(ValidationError):
        _edit(summary, office, edits={"../x": ["a"]})
    assert not Summary.objects.exists()


def test_a_liaison_edits_only_its_own_units_summary(township, other_township, county, liaison, leader, outsider):
    own = services.summary_for(unit=township, year=2025, shape="annual", user=liaison)
    _edit(own, liaison, shortcomings="人手不足。")
    for unit in (other_township, county):
        with pytest.raises(ValidationError):
            services.summary_for(unit=unit, year=2025, shape="annual", user=liaison)
    for user in (leader, outsider):
        with pytest.raises(ValidationError):
            services.summary_for(unit=township, year=2025, shape="annual", user=user)
        with pytest.raises(ValidationError):
            _edit(own, user, shortcomings="改写。")
    county_summary = Summary(unit=county, kind="annual", year=2025)
    with pytest.raises(ValidationError):
        _edit(county_summary, liaison, shortcomings="改写。")
    assert Summary.objects.get().shortcomings == "人手不足。"


def test_a_bad_shape_is_refused(township, office):
    with pytest.raises(ValidationError):
        services.summary_for(unit=township, year=2025, shape="winter", user=office)


def test_finalize_freezes_the_document_figures_and_pdf(logged, township, office):
    summary = services.summary_for(unit=township, year=2025, shape="annual", user=office)
    _edit(summary, office, edits={"visits": ["补充的一段。"]})
    version = services.summary_finalize(summary=summary, finalized_by=office)
    summary.refresh_from_db()
    assert (version.number, summary.status) == (1, SummaryStatus.FINAL)
    pdf = version.pdf.read()
    assert pdf.startswith(b"%PDF")
    document = version.document
    assert document["title"] == "溧东镇2025年度双拥工作总结" or document["title"].endswith("2025年度双拥工作总结")
    assert services.version_diff(version=version) == []

    # The data change: a second 八一 visit. The version stays as it was; the difference is listed.
    visit(township, office, D(2025, 8, 1), title="八一慰问退役军人", money="5000", people=20)
    version.refresh_from_db()
    with version.pdf.open("rb") as handle:
        assert handle.read() == pdf
    assert version.document == document
    diff = services.version_diff(version=version)
    assert diff, "the changed figures are listed"
    assert all(len(row) == 4 and row[2] != row[3] for row in diff)

    # A finalized summary is not edited directly: reopen, edit, finalize again -> version 2; version 1 unchanged.
    with pytest.raises(ValidationError) as error:
        _edit(summary, office, shortcomings="新的不足。")
    assert "重新打开" in error.value.messages[0]
    with pytest.raises(ValidationError):
        services.summary_finalize(summary=summary, finalized_by=office)
    with pytest.raises(ValidationError):
        services.summary_reopen(summary=summary, reason="  ", reopened_by=office)
    services.summary_reopen(summary=summary, reason="补充八一慰问退役军人", reopened_by=office)
    assert summary.status == SummaryStatus.DRAFT
    assert summary.history.first().history_change_reason == "重新打开：补充八一慰问退役军人"
    _edit(summary, office, shortcomings="新的不足。")
    second = services.summary_finalize(summary=summary, finalized_by=office)
    assert second.number == 2
    assert services.version_diff(version=second) == []
    assert second.document != document
    version.refresh_from_db()
    assert version.document == document
    with version.pdf.open("rb") as handle:
        assert handle.read() == pdf


def test_a_period_not_yet_over_cannot_be_finalized(township, office):
    summary = services.summary_for(unit=township, year=2026, shape="annual", user=office)
    with pytest.raises(ValidationError) as error:
        services.summary_finalize(summary=summary, finalized_by=office)
    assert "尚未结束" in error.value.messages[0]
    assert summary.pk is None and not Summary.objects.exists()


def test_only_editors_finalize(logged, township, liaison, leader, county):
    with pytest.raises(ValidationError):
        services.summary_finalize(summary=Summary(unit=county, kind="annual", year=2025), finalized_by=liaison)
    with pytest.raises(ValidationError):
        services.summary_finalize(summary=Summary(unit=township, kind="annual", year=2025), finalized_by=leader)
    assert not Summary.objects.exists()
