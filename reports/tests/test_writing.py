"""reports.writing: the draft of 工作开展情况 states the figures, in the seeds' wording, and nothing else."""

import datetime
import re
from decimal import Decimal

import pytest

from activities.constants import ActivityType, Occasion
from reports.figures import Period, figures, subtree_activities
from reports.writing import draft_work_text, in_wan, list_yuan, period_word, prose_yuan, self_word
from units.models import Unit

from .figure_data import Q3, _today, record  # noqa: F401 (_today is autouse)

D = datetime.date


def draft(unit, period=Q3):
    return draft_work_text(
        unit=unit,
        period=period,
        figures=figures(unit=unit, period=period),
        activities=period.activities(subtree_activities(unit)),
    )


def test_the_draft_states_the_quarters_figures(township, ledger, world):
    text = draft(township)

    assert text.startswith("本季度，我镇共开展双拥活动4项，参加人员52人次，其中部队官兵30人次。")
    assert "包括走访慰问1项、宣传教育1项、征兵1项、就业安置1项。" in text
    assert "7月28日，八一走访慰问驻地部队" in text
    assert "出板报2期、张贴标语5条" in text
    assert (
        "“八一”期间，走访慰问优抚对象1人次，发放慰问金500元；慰问驻地部队和共建力量1个，送去慰问金2000元；"
        "慰问困难群众3人，发放慰问金300元；送去慰问品折价800元；合计发放慰问金2800元。"
    ) in text
    assert "开展共建活动1项，部队官兵30人次参加" in text
    assert "征兵工作中，报名应征青年20名，体检合格8名，批准入伍5名。" in text
    assert "本季度共安置退役士兵3人。" in text
    assert "本季度共发放抚恤补助4500元，其中残疾军人残疾抚恤金1人，每人每月1500元，计4500元。" in text
    assert "因标准调整，补发残疾军人1人120.50元。" in text
    assert "发放立功奖励1人，计1000元。" in text
    # Nothing from 雅灰乡.
    assert "700" not in text and "雅灰乡" not in text


def test_payment_lines_add_up_to_the_total_they_state(county, ledger, world):
    text = draft(county)
    sentence = next(line for line in text.split("\n") if "抚恤补助" in line).split("。")[0]
    total = Decimal(re.search(r"共发放抚恤补助([\d.]+)元", sentence).group(1))
    items = [Decimal(amount) for amount in re.findall(r"计([\d.]+)元", sentence)]
    assert len(items) == 2 and sum(items) == total == Decimal("5300")


def test_sections_without_data_are_left_out(office, township):
    record(township, office, type=ActivityType.MEETING, start_date=D(2025, 8, 20), title="领导小组会议", participants=9)

    text = draft(township)

    assert (
        text
        == "本季度，我镇共开展双拥活动1项，参加人员9人次。\n主要活动有：8月20日，领导小组会议。\n召开领导小组会议1次。"
    )
    for word in ("走访慰问", "征兵", "安置", "抚恤", "共建", "板报", "计划"):
        assert word not in text


def test_nothing_happened_gives_an_empty_draft(bureau):
    assert draft(bureau) == ""


def test_an_occasion_draft_names_the_occasion_once_and_counts_by_occasion_year(township, world):
    text = draft(township, Period.occasion(2026, Occasion.SPRING_FESTIVAL))

    assert text.startswith("春节期间，我镇共开展双拥活动1项。")
    assert "2025年12月20日，春节走访慰问" in text
    assert "\n走访慰问优抚对象1人次，发放慰问金400元。" in text
    assert text.count("春节期间") == 1


def test_the_text_has_no_placeholders_latin_or_half_width_punctuation(county, ledger, world):
    text = draft(county) + draft(county, Period.year(2025))
    assert not re.search(r"[A-Za-z,;:()]|xx|None|__", text)
    assert "，。" not in text and "。。" not in text


def test_period_and_self_words(county, township, other_township, bureau, village):
    assert [period_word(p) for p in (Q3, Period.half(2025, 1), Period.year(2025))] == ["本季度", "上半年", "全年"]
    assert period_word(Period.occasion(2025, Occasion.ARMY_DAY)) == "“八一”期间"
    assert [self_word(u) for u in (county, township, other_township, bureau, village)] == [
        "我县",
        "我镇",
        "我乡",
        "我局",
        "我村",
    ]
    assert self_word(Unit(name="示例县妇联")) == "示例县妇联"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("7100", "7100元"),
        ("1500", "1500元"),
        ("672.50", "672.50元"),
        ("10050", "10050元"),
        ("203900", "20.39万元"),
        ("62000", "6.2万元"),
        ("1302300", "130.23万元"),
        ("10000", "1万元"),
    ],
)
def test_amounts_in_prose_as_the_seeds_write_them(amount, text):
    assert prose_yuan(amount) == text


def test_a_campaign_list_keeps_one_unit_with_its_decimals():
    amounts = ["62000", "1500", "34000", "3000", "23000", "10400"]
    formatter = list_yuan(amounts)
    assert [formatter(a) for a in amounts] == ["6.2万元", "0.15万元", "3.4万元", "0.3万元", "2.3万元", "1.04万元"]
    assert in_wan(sum(Decimal(a) for a in amounts)) == "13.39万元"
    # A single amount that is not whole hundreds keeps the whole list in 元.
    assert list_yuan(["62000", "1550"])("62000") == "62000元"
