"""The summary document against the seeds' own figures: 溧东乡's 优抚 lines (000 篇四) and the 八一 list (001 篇4)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from activities.tests.log_data import record
from activities.tests.test_selectors import seed_001_campaign
from beneficiaries.constants import Category, PaymentKind
from beneficiaries.models import Payment
from beneficiaries.tests.payment_helpers import d, generate, make_people, make_standard, mark_paid
from reports.figures import Period
from reports.summary import build_document, document_to_json
from units.constants import UnitKind
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0), tick=False):
        yield


@pytest.fixture
def lidong(county):
    return Unit.objects.create(name="溧东乡", kind=UnitKind.TOWNSHIP, parent=county, region_code="320481102000")


def section(doc, key):
    return next(s for s in doc.sections if s.key == key)


def lidong_year(county, lidong, office, director):
    """溧东乡's 定期生活补助 of 2025, paid month by month: 5 烈士子女 at 200元, 7 复员军人 at 672元."""
    make_standard(county, PaymentKind.LIVING, Category.MARTYR_FAMILY, 200)
    make_standard(county, PaymentKind.LIVING, Category.DEMOBILIZED, 672)
    make_people(lidong, 5, Category.MARTYR_FAMILY)
    make_people(lidong, 7, Category.DEMOBILIZED)
    for month in range(1, 13):
        batch, counts = generate(county, PaymentKind.LIVING, d(month, year=2025), d(month, year=2025), office)
        assert counts["created"] == 12
        mark_paid(batch, approver=director, paid_on=d(month, 20, year=2025))


def test_lidong_section_four_states_people_times_standard_and_the_ledger_total(county, lidong, office, director):
    lidong_year(county, lidong, office, director)

    doc = build_document(unit=lidong, period=Period.year_of(2025))

    policy = section(doc, "policy")
    text = "".join(policy.paragraphs)
    assert policy.heading.endswith("落实优抚政策")
    assert "烈士子女5人，每人每月发放200元，月计1000元" in text
    assert "在乡复员军人7人，每人每月发放672元，月计4704元" in text
    ledger = Payment.objects.filter(beneficiary__township=lidong, month__year=2025).aggregate(s=Sum("amount"))["s"]
    assert ledger == Decimal("68448.00")  # (1000 + 4704) × 12
    assert "全年累计发放各项优抚资金68448元" in text
    # The table states the same total, and the appendix the months.
    assert policy.tables[0].total[4] == "68,448.00"
    assert doc.appendix[0].rows[0][4] == "12"
    assert doc.is_draft is False and doc.date == "2025年12月31日"
    assert doc.title == "溧东乡2025年度双拥工作总结"


def test_lidong_half_year_counts_only_the_first_six_months(county, lidong, office, director):
    lidong_year(county, lidong, office, director)

    doc = build_document(unit=lidong, period=Period.half(2025, 1))

    text = "".join(section(doc, "policy").paragraphs)
    assert doc.title == "溧东乡2025年上半年双拥工作总结"
    assert "烈士子女5人，每人每月发放200元，月计1000元，上半年计6000元" in text
    assert "上半年累计发放各项优抚资金34224元" in text
    assert "全年" not in text


def test_the_army_day_campaign_of_seed_001_totals_20_39_wan(office, county, township, bureau):
    seed_001_campaign(office, county, township, bureau)
    # Another occasion is not part of the list.
    record(
        county,
        office,
        title="国庆慰问",
        occasion="national_day",
        groups=[{"description": "x", "people": 1, "money": 1}],
    )

    doc = build_document(unit=county, period=Period.occasion_of(2025, "army_day"))

    assert doc.title == "示例县2025年“八一”走访慰问情况"
    listing = section(doc, "occasion_list")
    text = "".join(listing.paragraphs)
    assert "合计20.39万元" in text
    # One unit for the whole list, even 0.15万元 and 1.04万元 (pitfall 4: no lost decimal points).
    assert "共计6.2万元" in text and "共计0.15万元" in text and "共计1.04万元" in text and "共计3.4万元" in text
    assert "共计7万元" in text and "共计0.3万元" in text and "共计2.3万元" in text
    assert "元；" not in text.replace("万元；", "")
    assert listing.tables[0].total[-1] == "20.39万元"
    items = [Decimal(row[-1].removesuffix("万元")) for row in listing.tables[0].rows]
    assert sum(items) == Decimal("20.39")
    assert "国庆" not in str(document_to_json(doc)) and "x1人" not in text
    # The appendix lists the three registry recipients with masked IDs.
    names = doc.appendix[0]
    assert [row[1] for row in names.rows] == ["粟正祥", "李卫国", "赵建军"]
    assert all("*" in row[2] and len(row[2]) == 18 for row in names.rows)
