"""The activity journey: a liaison logs a 八一 visit on a phone; the ledger, the log, the occasion page and the
dashboard show it; another county's office gets 404."""

import datetime
import io
import re
from decimal import Decimal

from PIL import Image

from activities.models import Activity
from beneficiaries.constants import PaymentKind, Status
from beneficiaries.models import Beneficiary, Payment
from units.models import Unit

from .conftest import shot

VISIT_DAY = datetime.date(2026, 7, 30)
AMOUNT = Decimal("500")
GIFT_MONEY = Decimal("2000")


def _photo(path, colour):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def _yuan(text):
    return Decimal(re.sub(r"[^\d.]", "", text))


def _occasion_money(page):
    page.goto(f"/activities/occasions/{VISIT_DAY.year}/army_day/")
    return _yuan(page.locator("[data-total=money]").first.inner_text())


def _dashboard_money(page):
    page.goto(f"/activities/dashboard/?year={VISIT_DAY.year}")
    row = page.locator("#occasion-table tr[data-occasion=army_day] td")
    return _yuan(row.nth(2).inner_text())


def test_liaison_logs_a_visit_on_a_phone_and_the_office_sees_it(open_as, tmp_path):
    township = Unit.objects.get(name="溧东镇")
    people = list(Beneficiary.objects.filter(township=township, status=Status.ACTIVE).order_by("name")[:3])
    assert len(people) == 3

    office = open_as("ganshi")
    occasion_before = _occasion_money(office)
    dashboard_before = _dashboard_money(office)

    phone = open_as("lidong", phone=True)
    phone.goto("/activities/new/")
    phone.select_option("select[name=unit]", label="溧东镇")
    phone.select_option("select[name=type]", label="走访慰问")
    phone.select_option("select[name=occasion]", label="八一")
    phone.fill("input[name=start_date]", VISIT_DAY.isoformat())
    phone.fill("input[name=title]", "溧东镇八一走访慰问驻地部队和优抚对象")
    phone.fill("input[name=place]", "雷达连营区")
    phone.fill("input[name=leaders]", "镇党委书记、镇长")
    phone.fill("input[name=participants]", "12")
    phone.fill("input[name=soldiers]", "60")
    phone.fill("input[name=reached]", "63")

    phone.select_option("select[name=gifts-0-recipient_unit]", label="雷达连")
    phone.fill("input[name=gifts-0-money]", str(GIFT_MONEY))
    phone.fill("input[name=gifts-0-goods]", "西瓜、矿泉水")
    phone.fill("input[name=gifts-0-goods_value]", "800")

    for index, person in enumerate(people):
        phone.fill("#recipient-q", person.name)
        hit = phone.locator(f"#recipient-results button[data-pk='{person.pk}']")
        hit.click()
        phone.fill(f"input[name=recipients-{index}-amount]", str(AMOUNT))
        # Picking shows the masked name only: the full name never reaches the liaison's page.
        assert person.name not in phone.locator("#recipients-rows").inner_text()

    phone.set_input_files(
        "input[name=photos]", [_photo(tmp_path / "a.jpg", "red"), _photo(tmp_path / "b.jpg", "green")]
    )
    shot(phone, "activities-phone-form")
    # Large touch targets: the save button is at least 44 px high on the phone.
    assert phone.locator("button:has-text('保存')").bounding_box()["height"] >= 44
    phone.click("button:has-text('保存')")
    phone.wait_for_url(re.compile(r"/activities/\d+/$"))

    activity = Activity.objects.get(title="溧东镇八一走访慰问驻地部队和优抚对象")
    assert activity.photo_count == 2
    thumbnails = phone.locator("img.photo-thumb")
    assert thumbnails.count() == 2
    for index in range(2):
        thumbnails.nth(index).scroll_into_view_if_needed()
        thumbnails.nth(index).evaluate("img => img.complete || new Promise(done => img.onload = img.onerror = done)")
        assert thumbnails.nth(index).evaluate("img => img.naturalWidth") > 0
    shot(phone, "activities-phone-detail")

    # The ledger holds each 慰问金 once, cash, on the visit day, referring to the activity.
    rows = Payment.objects.filter(kind=PaymentKind.CONDOLENCE, reference=f"activity:{activity.pk}")
    assert sorted(rows.values_list("beneficiary_id", flat=True)) == sorted(p.pk for p in people)
    assert {(r.amount, r.paid_on) for r in rows} == {(AMOUNT, VISIT_DAY)}
    office.goto(
        f"/payments/ledger/?kind=condolence&month_from={VISIT_DAY:%Y-%m}&month_to={VISIT_DAY:%Y-%m}"
        f"&township={township.pk}"
    )
    ledger = office.locator("#ledger-rows tbody tr")
    for person in people:
        assert ledger.filter(has_text=person.name).filter(has_text="八一").count() == 1
    shot(office, "activities-ledger")

    # The log, the occasion page and the dashboard all add exactly this visit's money.
    given = GIFT_MONEY + AMOUNT * 3
    office.goto(f"/activities/?occasion=army_day&year={VISIT_DAY.year}")
    assert office.locator("text=溧东镇八一走访慰问驻地部队和优抚对象").count() >= 1
    shot(office, "activities-log")
    assert _occasion_money(office) - occasion_before == given
    shot(office, "activities-occasion")
    assert _dashboard_money(office) - dashboard_before == given
    shot(office, "activities-dashboard")

    # Another county's office gets 404 for the activity and its photos.
    outsider = open_as("linxian")
    photo = activity.photos.first()
    for url in (f"/activities/{activity.pk}/", f"/activities/photos/{photo.pk}/"):
        assert outsider.goto(url).status == 404
    assert "溧东镇八一走访" not in outsider.goto("/activities/").text()
