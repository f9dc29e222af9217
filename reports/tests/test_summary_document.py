"""The summary Document: shapes, sections left out when empty, scope, edits, JSON and its fingerprint."""

import datetime
import json
from decimal import Decimal

import pytest
import time_machine

from activities.constants import ActivityType
from activities.tests.log_data import make_person, record
from reports.figures import Period
from reports.models import Summary
from reports.summary import (
    Document,
    Section,
    Table,
    build_document,
    data_key,
    document_from_json,
    document_to_json,
    shape_period,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0), tick=False):
        yield


def keys(doc):
    return [s.key for s in doc.sections]


def test_shape_period_names_the_period_or_none():
    assert shape_period(shape="annual", year=2025) == Period.year_of(2025)
    assert shape_period(shape="half", year=2026) == Period.half(2026, 1)
    assert shape_period(shape="army_day", year=2025) == Period.occasion_of(2025, "army_day")
    assert shape_period(shape="quarter", year=2025) is None
    assert shape_period(shape="", year=2025) is None
    assert shape_period(shape="annual", year="abc") is None


def test_a_scope_without_data_has_no_sections_and_no_filler(township):
    doc = build_document(unit=township, period=Period.year_of(2025))
    assert doc.sections == [] and doc.appendix == []
    assert doc.title == "溧东镇2025年度双拥工作总结" and doc.issuer == "溧东镇双拥工作领导小组办公室"
    assert "取得" not in doc.opening and "一定成效" not in doc.opening


def test_only_the_sections_with_data_are_written_and_numbered_after(office, township):
    record(township, office, title="国防教育板报", type=ActivityType.PUBLICITY, occasion="", boards=6, slogans=12)
    record(township, office, title="征兵宣传", type=ActivityType.CONSCRIPTION, occasion="", enlist_applied=30)

    doc = build_document(unit=township, period=Period.year_of(2025))

    assert keys(doc) == ["publicity", "conscription"]
    assert doc.sections[0].heading == "一、强化宣传教育，营造双拥氛围"
    assert doc.sections[1].heading.startswith("二、")
    assert "出板报6期" in doc.sections[0].paragraphs[0] and "张贴标语12条" in doc.sections[0].paragraphs[0]
    assert "报名应征青年30名" in doc.sections[1].paragraphs[0]
    assert doc.charts["activities_by_month"][6] == ("7月", 2)


def test_last_year_is_compared_where_it_has_the_figure(office, township):
    record(township, office, title="今年八一", groups=[{"description": "老复员军人", "people": 10, "money": 3000}])
    record(
        township,
        office,
        title="去年八一",
        on=datetime.date(2024, 7, 28),
        groups=[{"description": "老复员军人", "people": 8, "money": 2000}],
    )
    doc = build_document(unit=township, period=Period.year_of(2025))
    visits = "".join(next(s for s in doc.sections if s.key == "visits").paragraphs)
    assert "发放慰问金3000元，比上年增加1000元" in visits
    assert "previous" in doc.figures


def test_a_townships_document_has_nothing_of_another_township(office, township, other_township, village):
    mine, theirs = make_person(township, 1, name="本镇对象"), make_person(other_township, 2, name="外乡对象")
    record(township, office, title="本镇慰问", recipients=[{"beneficiary": mine, "amount": Decimal("500")}])
    record(
        other_township,
        office,
        title="外乡慰问",
        recipients=[{"beneficiary": theirs, "amount": Decimal("777")}],
        groups=[{"description": "外乡困难群众", "people": 9, "money": Decimal("900")}],
        gifts=[{"recipient_name": "外乡共建部队", "money": Decimal("800")}],
    )

    for period in [Period.year_of(2025), Period.occasion_of(2025, "army_day")]:
        text = json.dumps(document_to_json(build_document(unit=township, period=period)), ensure_ascii=False)
        assert "本镇对象" in text and "500" in text
        for foreign in ["外乡", other_township.name, "777", "900"]:
            assert foreign not in text
        assert theirs.id_number not in text and mine.id_number not in text  # IDs are masked


def test_the_summarys_edits_shortcomings_and_plan_become_sections(office, township):
    record(township, office, title="八一慰问", groups=[{"description": "烈军属", "people": 5, "money": 1000}])
    summary = Summary.objects.create(
        unit=township,
        year=2025,
        edits={"visits": ["镇领导带队走访了辖区烈军属。"], "joint": ["与人武部开展了共建。"]},
        shortcomings="一是经费不足；\n二是宣传不够深入。",
        next_plan="",
    )
    doc = build_document(unit=township, period=Period.year_of(2025), summary=summary)
    assert keys(doc) == ["visits", "joint", "shortcomings"]
    assert doc.sections[0].edited == ["镇领导带队走访了辖区烈军属。"] and doc.sections[0].paragraphs
    assert doc.sections[1].paragraphs == [] and doc.sections[1].edited == ["与人武部开展了共建。"]
    assert doc.sections[2].heading == "三、存在的不足"
    assert doc.sections[2].paragraphs == ["一是经费不足；", "二是宣传不够深入。"]


def test_a_period_not_over_is_a_draft_dated_today(office, township):
    record(township, office, title="春节慰问", on=datetime.date(2026, 2, 1), occasion="spring")
    doc = build_document(unit=township, period=Period.year_of(2026))
    assert doc.is_draft is True and doc.date == "2026年3月2日"
    done = build_document(unit=township, period=Period.year_of(2025))
    assert done.is_draft is False and done.date == "2025年12月31日"


def test_the_json_round_trips(office, township):
    record(township, office, title="八一慰问", groups=[{"description": "烈军属", "people": 5, "money": 1000}])
    doc = build_document(unit=township, period=Period.year_of(2025))
    data = json.loads(json.dumps(document_to_json(doc)))
    assert document_from_json(data) == doc
    built = Document(
        title="t",
        issuer="i",
        date="2025年12月31日",
        opening="o",
        sections=[Section("visits", "一、x", ["p"], [Table("表", ["a"], [["1"]], ["合计"])], ["e"])],
        charts={"money_by_category": [("烈士遗属", Decimal("12000.00"))], "activities_by_month": [("1月", 2)]},
        appendix=[Table("附表", ["a"], [["1"]])],
        is_draft=True,
        figures={},
    )
    assert document_from_json(json.loads(json.dumps(document_to_json(built)))) == built


def test_the_data_key_changes_when_the_data_change(office, township):
    record(township, office, title="八一慰问", groups=[{"description": "烈军属", "people": 5, "money": 1000}])
    period = Period.year_of(2025)
    key = data_key(build_document(unit=township, period=period))
    assert data_key(build_document(unit=township, period=period)) == key
    record(
        township,
        office,
        title="国庆慰问",
        occasion="national_day",
        groups=[{"description": "x", "people": 1, "money": 1}],
    )
    changed = data_key(build_document(unit=township, period=period))
    assert changed != key and len(changed) == 64
    summary = Summary.objects.create(unit=township, year=2025, edits={"visits": ["补充"]})
    assert data_key(build_document(unit=township, period=period, summary=summary)) != changed
