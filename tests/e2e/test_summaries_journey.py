"""The leader's journey: the downloads page, the 2025 county summary PDF with the ledger's total, the 2026 one
marked as a draft; another county's leader gets 404."""

import io
import re

from django.db.models import Sum
from pypdf import PdfReader

from beneficiaries.models import Payment
from beneficiaries.selectors import PAID_Q
from shuangyong.lib.money import plain_yuan
from units.models import Unit

from .conftest import shot


def _pdf_text(page, href):
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages)), len(reader.pages)


def _link(page, unit, year, shape, kind):
    return page.locator(f"a[href='/reports/summaries/{unit.pk}/{year}/{shape}/{kind}']").first.get_attribute("href")


def test_a_leader_downloads_the_county_summaries(open_as):
    county = Unit.objects.get(name="示例县")
    leader = open_as("xianzhang")
    leader.click("text=年度总结")
    leader.wait_for_selector("table.summary-list")
    shot(leader, "summaries-downloads")
    assert "2026年" in leader.locator("table.summary-list").inner_text()
    assert leader.locator("text=修改与定稿").count() == 0

    text, pages = _pdf_text(leader, _link(leader, county, 2025, "annual", "pdf/"))
    assert "示例县2025年度双拥工作总结" in text
    assert pages >= 5
    ledger = Payment.objects.counted().filter(PAID_Q, month__year=2025, township__path__startswith=county.path)
    total = ledger.aggregate(total=Sum("amount"))["total"]
    assert f"全年累计发放各项优抚资金{plain_yuan(total)}" in text
    assert "草稿" not in text

    draft, _ = _pdf_text(leader, _link(leader, county, 2026, "annual", "pdf/"))
    assert "示例县2026年度双拥工作总结" in draft
    assert "草稿" in draft

    leader.goto(f"/reports/summaries/{county.pk}/2025/annual/")
    assert "示例县2025年度双拥工作总结" in leader.locator("h1").inner_text()
    shot(leader, "summaries-preview")

    outsider = open_as("linxian")
    assert outsider.goto(f"/reports/summaries/{county.pk}/2025/annual/pdf/").status == 404
