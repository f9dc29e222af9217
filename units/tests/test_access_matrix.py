"""Every URL pattern, every persona: who gets the page, who gets 404, who is sent to log in."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import make_user
from units.constants import Role
from units.services import agreement_add

PERSONAS = ["director", "office", "liaison", "bureau_liaison", "leader", "outsider"]

# Object a URL points at: the township (溧东镇) of the liaison, inside the office's county.
TARGETS = {
    "unit": lambda f: [f["township"].pk],
    "group": lambda f: [f["group"].unit_id],
    "pairing": lambda f: [f["pairing"].pk],
    "account": lambda f: [f["account"].pk],
    "member": lambda f: [f["group"].unit_id, f["group"].members.first().pk],
    "agreement": lambda f: [f["agreement"].pk],
    "person": lambda f: [f["person"].pk],
    "entitlement": lambda f: [f["person"].entitlements.first().pk],
    "village": lambda f: [f["person"].village_id],
    "person_id_number": lambda f: [f["person"].pk, "id_number"],
    "change": lambda f: [_change_with_document(f)],
    "transfer": lambda f: [_transfer_to_outsider(f)],
    "office_import": lambda f: [_office_import(f)],
    "office_export": lambda f: [_office_export(f)],
    "none": lambda f: [],
    "plan": lambda f: [f["township"].pk, 2026],
    "budget_line": lambda f: [_budget_line(f).pk],
    "occasion": lambda f: [2026, "army_day"],
    "standard": lambda f: [_standard(f).pk],
    "raised_standard": lambda f: [_raised_standard(f).pk],
    "batch": lambda f: [_batch(f).pk],
    "paid_payment": lambda f: [_paid_payment(f).pk],
    "death": lambda f: [_death(f).pk],
    "recovery": lambda f: [_recovery(f).pk],
    "activity": lambda f: [_activity(f).pk],
    "activity_recipient": lambda f: [(a := _activity(f)).pk, a.recipients.get().pk],
    "activity_photo": lambda f: [_activity(f).photos.get().pk],
    "report": lambda f: [_report(f, "returned").pk],
    "submitted_report": lambda f: [_report(f, "submitted").pk],
    "accepted_report": lambda f: [_report(f, "accepted").pk],
    "report_attachment": lambda f: [_report_attachment(f).pk],
    "summary_township": lambda f: [f["township"].pk, 2025, "annual"],
    "summary_version": lambda f: [_summary_version(f).pk],
}

OK, NF, FORBID = 200, 404, 403
IN_TOWNSHIP_EDIT = {"director": OK, "office": OK, "liaison": OK, "bureau_liaison": NF, "leader": NF, "outsider": NF}
IN_COUNTY_READ = {"director": OK, "office": OK, "liaison": OK, "bureau_liaison": NF, "leader": OK, "outsider": NF}
OFFICE_ONLY = {"director": OK, "office": OK, "liaison": NF, "bureau_liaison": NF, "leader": NF, "outsider": NF}
EVERYONE = {p: OK for p in PERSONAS}
IN_COUNTY_FORBIDDEN = {p: FORBID if IN_COUNTY_READ[p] == OK else NF for p in PERSONAS}

# name: (method, target, expected status per persona)
MATRIX = {
    "home": ("get", "none", EVERYONE),
    "units:list": ("get", "none", EVERYONE),
    "units:detail": ("get", "unit", IN_COUNTY_READ),
    "units:create": (
        "get",
        "none",
        {**OFFICE_ONLY, "liaison": FORBID, "bureau_liaison": FORBID, "leader": FORBID, "outsider": OK},
    ),
    "units:edit": ("get", "unit", OFFICE_ONLY),
    "units:toggle_active": ("post", "unit", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "units:group": ("get", "group", IN_COUNTY_READ),
    "units:group_create": ("get", "group", {**IN_TOWNSHIP_EDIT, "director": 302, "office": 302, "liaison": 302}),
    "units:group_edit": ("get", "group", IN_TOWNSHIP_EDIT),
    "units:group_pdf": ("get", "group", IN_COUNTY_READ),
    "units:group_member_add": ("get", "group", IN_TOWNSHIP_EDIT),
    "units:group_member_adjust": ("get", "member", IN_TOWNSHIP_EDIT),
    "units:group_member_end": ("get", "member", IN_TOWNSHIP_EDIT),
    "units:pairings": ("get", "none", EVERYONE),
    "units:pairing_create": ("get", "none", {**EVERYONE, "leader": NF}),
    "units:pairing": ("get", "pairing", IN_COUNTY_READ),
    "units:pairing_edit": ("get", "pairing", IN_TOWNSHIP_EDIT),
    "units:pairing_end": ("get", "pairing", IN_TOWNSHIP_EDIT),
    "units:agreement_add": ("get", "pairing", IN_TOWNSHIP_EDIT),
    "units:agreement_file": ("get", "agreement", IN_COUNTY_READ),
    "units:import": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "units:import_template": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "accounts:profile": ("get", "none", EVERYONE),
    "accounts:password_change": ("get", "none", EVERYONE),
    "accounts:list": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "accounts:create": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "accounts:detail": ("get", "account", OFFICE_ONLY),
    "accounts:reset_password": ("post", "account", OFFICE_ONLY),
    "accounts:toggle_active": ("post", "account", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "accounts:set_reveal": ("post", "account", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "beneficiaries:list": ("get", "none", EVERYONE),
    "beneficiaries:detail": ("get", "person", IN_COUNTY_READ),
    # Nobody in the matrix holds the reveal permission: those who see the person get 403, the rest 404.
    "beneficiaries:reveal": ("post", "person_id_number", IN_COUNTY_FORBIDDEN),
    "beneficiaries:access_log": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    # Registering needs a township to register in: the outsider's county has none in this world.
    "beneficiaries:create": ("get", "none", IN_TOWNSHIP_EDIT),
    "beneficiaries:edit": ("get", "person", IN_TOWNSHIP_EDIT),
    "beneficiaries:entitlement_add": ("get", "person", IN_TOWNSHIP_EDIT),
    "beneficiaries:award_add": ("get", "entitlement", IN_TOWNSHIP_EDIT),
    "beneficiaries:change_add": ("get", "person", IN_TOWNSHIP_EDIT),
    "beneficiaries:change_document": ("get", "change", IN_COUNTY_READ),
    "beneficiaries:transfers": ("get", "none", {**EVERYONE, "bureau_liaison": NF}),
    "beneficiaries:transfer_accept": ("get", "transfer", {**{p: NF for p in PERSONAS}, "outsider": OK}),
    "beneficiaries:confirmation": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "beneficiaries:notice_pdf": ("get", "village", IN_COUNTY_READ),
    # Importing needs a township in one's care; a job and its file belong to the user who started it.
    "beneficiaries:import": ("get", "none", IN_TOWNSHIP_EDIT),
    "beneficiaries:import_template": ("get", "none", IN_TOWNSHIP_EDIT),
    "beneficiaries:import_job": ("get", "office_import", {**{p: NF for p in PERSONAS}, "office": OK}),
    "beneficiaries:import_confirm": ("post", "office_import", {**{p: NF for p in PERSONAS}, "office": 302}),
    "beneficiaries:export": ("get", "none", EVERYONE),
    "beneficiaries:export_download": ("get", "office_export", {**{p: NF for p in PERSONAS}, "office": OK}),
    # Standards: the office edits, leaders read; the outsider's office keeps its own county's table.
    "payments:standards": ("get", "none", {**IN_COUNTY_READ, "liaison": NF, "outsider": OK}),
    "payments:standard_add": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "payments:standard_raise": ("get", "standard", OFFICE_ONLY),
    "payments:backpay_add": ("get", "raised_standard", OFFICE_ONLY),
    "payments:one_off_add": ("get", "person", OFFICE_ONLY),
    # Batches are the county's: its office acts, its leaders read, a township liaison sees none.
    "payments:batches": ("get", "none", EVERYONE),
    "payments:batch_add": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "payments:batch": ("get", "batch", {**OFFICE_ONLY, "leader": OK}),
    "payments:batch_generate": ("post", "batch", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "payments:batch_approve": ("post", "batch", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "payments:batch_paid": ("get", "batch", OFFICE_ONLY),
    "payments:batch_bank_file": ("get", "batch", {**OFFICE_ONLY, "leader": OK}),
    "payments:batch_sign_sheet": ("get", "batch", {**OFFICE_ONLY, "leader": OK}),
    "payments:payment_return": ("get", "paid_payment", OFFICE_ONLY),
    # The ledger and the summary show each user the rows of their own jurisdiction (possibly none).
    "payments:ledger": ("get", "none", EVERYONE),
    "payments:summary": ("get", "none", EVERYONE),
    # Deaths, recoveries and the history import: the office acts; leaders and liaisons read the recoveries.
    "payments:death_settle": ("get", "death", OFFICE_ONLY),
    "payments:recoveries": ("get", "none", {**IN_COUNTY_READ, "outsider": OK}),
    "payments:recovery": ("get", "recovery", OFFICE_ONLY),
    "payments:death_check": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "payments:import": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "payments:import_template": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    # Plans: everyone sees the plans of their jurisdiction; office and liaisons write them, leaders read.
    "units:plans": ("get", "none", EVERYONE),
    "units:plan": ("get", "plan", IN_COUNTY_READ),
    "units:plan_edit": ("get", "plan", IN_TOWNSHIP_EDIT),
    # 双拥经费 and the dashboard are the office's and the leaders' (the outsider's office sees its own county);
    # liaisons have neither.
    "activities:budget": ("get", "none", {**OFFICE_ONLY, "leader": OK, "outsider": OK}),
    "activities:budget_create": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "activities:budget_edit": ("get", "budget_line", OFFICE_ONLY),
    "activities:dashboard": ("get", "none", {**OFFICE_ONLY, "leader": OK, "outsider": OK}),
    # The activity log and its totals: everyone sees the activities of their own jurisdiction (possibly none).
    "activities:list": ("get", "none", EVERYONE),
    "activities:export": ("get", "none", EVERYONE),
    "activities:occasions": ("get", "none", EVERYONE),
    "activities:occasion": ("get", "occasion", EVERYONE),
    # Importing past years' activities: whoever may log activities, for the units in their care; leaders never.
    "activities:import": ("get", "none", {**EVERYONE, "leader": NF}),
    "activities:import_template": ("get", "none", {**EVERYONE, "leader": NF}),
    # Entry: whoever may log activities, for the units in their care; leaders read, the office corrects 慰问金.
    "activities:create": ("get", "none", {**EVERYONE, "leader": NF}),
    "activities:detail": ("get", "activity", IN_COUNTY_READ),
    "activities:edit": ("get", "activity", IN_TOWNSHIP_EDIT),
    "activities:photo_add": ("get", "activity", IN_TOWNSHIP_EDIT),
    "activities:recipient_correct": ("get", "activity_recipient", OFFICE_ONLY),
    "activities:photo": ("get", "activity_photo", IN_COUNTY_READ),
    "activities:photo_thumbnail": ("get", "activity_photo", IN_COUNTY_READ),
    "activities:photo_remove": (
        "post",
        "activity_photo",
        {**IN_TOWNSHIP_EDIT, "director": 302, "office": 302, "liaison": 302},
    ),
    "activities:recipient_search": ("get", "none", {**EVERYONE, "leader": NF}),
    "activities:unit_options": ("get", "none", {**EVERYONE, "leader": NF}),
    # Completeness and the quarter's workbook: the office and the leaders of each county (the outsider sees its own);
    # the reporting settings are the office's. An empty POST re-shows the list's form or comes back with a message.
    "reports:completeness": ("get", "none", {**OFFICE_ONLY, "leader": OK, "outsider": OK}),
    "reports:quarter_export": ("get", "none", {**OFFICE_ONLY, "leader": OK, "outsider": OK}),
    "reports:settings": ("get", "none", {**OFFICE_ONLY, "outsider": OK}),
    "reports:reporting_unit_set": ("post", "none", {**OFFICE_ONLY, "outsider": OK}),
    "reports:deadline_set": ("post", "none", {**OFFICE_ONLY, "director": 302, "office": 302, "outsider": 302}),
    # Quarterly reports: the unit's liaison and the office write (a returned report here), leaders read, only the
    # office reviews; each list shows a user the reports of their own jurisdiction (possibly none).
    "reports:quarterly": ("get", "none", EVERYONE),
    "reports:report_create": ("get", "none", {**EVERYONE, "leader": NF}),
    "reports:report": ("get", "report", IN_COUNTY_READ),
    "reports:report_edit": ("get", "report", IN_TOWNSHIP_EDIT),
    "reports:report_submit": ("post", "report", {**IN_TOWNSHIP_EDIT, "director": 302, "office": 302, "liaison": 302}),
    "reports:report_return": ("get", "submitted_report", OFFICE_ONLY),
    "reports:report_accept": ("post", "submitted_report", {**OFFICE_ONLY, "director": 302, "office": 302}),
    "reports:report_reopen": ("get", "accepted_report", OFFICE_ONLY),
    "reports:report_print": ("get", "report", IN_COUNTY_READ),
    "reports:report_pdf": ("get", "report", IN_COUNTY_READ),
    "reports:attachment_add": ("get", "report", IN_TOWNSHIP_EDIT),
    "reports:attachment": ("get", "report_attachment", IN_COUNTY_READ),
    "reports:attachment_remove": (
        "post",
        "report_attachment",
        {**IN_TOWNSHIP_EDIT, "director": 302, "office": 302, "liaison": 302},
    ),
    # Summaries: everyone reads the summaries of their own scope (the downloads page lists possibly none).
    "reports:summaries": ("get", "none", EVERYONE),
    "reports:summary": ("get", "summary_township", IN_COUNTY_READ),
    "reports:summary_pdf": ("get", "summary_township", IN_COUNTY_READ),
    "reports:summary_xlsx": ("get", "summary_township", IN_COUNTY_READ),
    # Summaries: the office and the unit's own liaison edit and finalize (定稿); leaders only read.
    "reports:summary_edit": ("get", "summary_township", IN_TOWNSHIP_EDIT),
    "reports:summary_finalize": (
        "post",
        "summary_township",
        {**IN_TOWNSHIP_EDIT, "director": 302, "office": 302, "liaison": 302},
    ),
    "reports:version_pdf": ("get", "summary_version", IN_COUNTY_READ),
}


def _change_with_document(f):
    from beneficiaries.constants import ChangeKind
    from beneficiaries.services import change_record

    document = SimpleUploadedFile("证明.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return change_record(
        beneficiary=f["person"],
        kind=ChangeKind.HOLD,
        effective_on=datetime.date(2025, 1, 2),
        reason="未年审",
        document=document,
        recorded_by=f["office"],
    ).pk


def _transfer_to_outsider(f):
    from beneficiaries.constants import ChangeKind
    from beneficiaries.services import change_record

    change = change_record(
        beneficiary=f["person"],
        kind=ChangeKind.TRANSFER_OUT,
        effective_on=datetime.date(2025, 1, 2),
        to_county=f["outsider"].memberships.get().unit,
        recorded_by=f["office"],
    )
    return change.transfer_out.pk


def _office_import(f):
    from beneficiaries.importers import CHECK_KIND
    from units.models import Job

    return Job.objects.create(kind=CHECK_KIND, created_by=f["office"], params={"filename": "名单.xlsx"}).pk


def _office_export(f):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from beneficiaries.exporters import EXPORT_KIND
    from units.constants import JobStatus
    from units.models import Job

    name = default_storage.save("exports/matrix.xlsx", ContentFile(b"PK"))
    return Job.objects.create(
        kind=EXPORT_KIND, created_by=f["office"], status=JobStatus.DONE, result={"file": name, "filename": "名册.xlsx"}
    ).pk


def _standard(f):
    from decimal import Decimal

    from beneficiaries.constants import Category, PaymentKind
    from beneficiaries.standard_services import standard_create

    return standard_create(
        unit=f["township"].parent,
        kind=PaymentKind.LIVING,
        category=Category.DEMOBILIZED,
        amount=Decimal("90"),
        national_part=Decimal("60"),
        effective_from=datetime.date(2025, 1, 1),
        created_by=f["office"],
    )


def _raised_standard(f):
    from decimal import Decimal

    from beneficiaries.standard_services import standard_raise

    return standard_raise(
        standard=_standard(f),
        amount=Decimal("140"),
        national_part=Decimal("60"),
        effective_from=datetime.date(2025, 8, 1),
        document="",
        created_by=f["office"],
    )


def _batch(f):
    from beneficiaries.constants import PaymentKind
    from beneficiaries.payment_services import batch_create

    return batch_create(
        unit=f["township"].parent,
        kind=PaymentKind.DISABILITY,
        first_month=datetime.date(2025, 3, 1),
        last_month=datetime.date(2025, 3, 1),
        created_by=f["office"],
    )


def _paid_payment(f):
    from decimal import Decimal

    from beneficiaries.constants import Category, PaymentKind, PayMethod
    from beneficiaries.models import Payment

    return Payment.objects.create(
        beneficiary=f["person"],
        township=f["township"],
        kind=PaymentKind.DISABILITY,
        category=Category.DISABLED,
        month=datetime.date(2025, 3, 1),
        rate=Decimal("1250"),
        amount=Decimal("1250"),
        paid_on=datetime.date(2025, 3, 20),
        method=PayMethod.CARD,
    )


def _death(f):
    from beneficiaries.constants import ChangeKind, DeathCause
    from beneficiaries.services import change_record

    return change_record(
        beneficiary=f["person"],
        kind=ChangeKind.DEATH,
        effective_on=datetime.date(2025, 2, 10),
        death_cause=DeathCause.ILLNESS,
        recorded_by=f["office"],
    )


def _recovery(f):
    from beneficiaries.constants import ChangeKind
    from beneficiaries.recovery_services import overpayment_record
    from beneficiaries.services import change_record

    _paid_payment(f)
    change = change_record(
        beneficiary=f["person"],
        kind=ChangeKind.CANCEL,
        effective_on=datetime.date(2025, 1, 20),
        reason="骗取待遇",
        recorded_by=f["office"],
    )
    return overpayment_record(change=change, recorded_by=f["office"]).recovery


def _budget_line(f):
    from decimal import Decimal

    from activities.budget_services import budget_line_save
    from activities.constants import BudgetSource

    return budget_line_save(
        unit=f["township"].parent,
        year=2025,
        source=BudgetSource.COUNTY,
        amount=Decimal("200000"),
        note="",
        saved_by=f["office"],
    )


def _activity(f):
    """A 八一 visit of 溧东镇 with one registry recipient (王建国) and one photo."""
    import io

    from PIL import Image

    from activities.constants import ActivityType, Occasion
    from activities.services import activity_create

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return activity_create(
        unit=f["township"],
        created_by=f["liaison"],
        type=ActivityType.VISIT,
        occasion=Occasion.ARMY_DAY,
        title="八一走访慰问",
        start_date=datetime.date(2025, 7, 28),
        recipients=[{"beneficiary": f["person"], "amount": "500"}],
        photos=[SimpleUploadedFile("合影.png", buffer.getvalue())],
    )


def _report(f, status):
    """溧东镇's report for 2025 Q3 (a quarter long ended), taken to `status`: returned, submitted or accepted."""
    from reports import services

    report = services.report_create(unit=f["township"], year=2025, quarter=3, created_by=f["liaison"])
    services.report_update(
        report=report, updated_by=f["liaison"], work_text="工作情况", problems_text="问题", plan_text="计划"
    )
    services.report_submit(report=report, submitted_by=f["liaison"])
    if status == "returned":
        services.report_return(report=report, comment="请补充", returned_by=f["office"])
    elif status == "accepted":
        services.report_accept(report=report, accepted_by=f["office"])
    return report


def _report_attachment(f):
    from reports.services import attachment_add

    document = SimpleUploadedFile("附件.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return attachment_add(report=_report(f, "returned"), file=document, uploaded_by=f["liaison"])


# URLs that are not the portal's own pages.
EXEMPT_PREFIXES = ("admin:",)
EXEMPT = {"login", "logout", "job"}


def _summary_version(f):
    """A 定稿 of the township's 2025 summary, with stand-in PDF bytes (rendering is tested elsewhere)."""
    from django.core.files.base import ContentFile

    from reports.models import Summary, SummaryVersion

    summary = Summary.objects.create(unit=f["township"], kind="annual", year=2025, status="final")
    version = SummaryVersion(summary=summary, number=1, document={"title": "溧东镇2025年度双拥工作总结"}, figures={})
    version.pdf.save("summary-v1.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    version.save()
    return version


def _names(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}"


def test_every_url_is_in_the_matrix():
    names = {n for n in _names() if not n.startswith(EXEMPT_PREFIXES) and n not in EXEMPT}
    missing = sorted(names - set(MATRIX))
    assert not missing, f"URL 未列入访问矩阵：{missing}"


@pytest.fixture
def world(personas, township, village, bureau, military_unit, group, pairing, person):
    account = make_user("village_liaison", village, Role.LIAISON)
    agreement = agreement_add(
        pairing=pairing,
        signed_on=datetime.date(2024, 3, 5),
        file=SimpleUploadedFile("协议.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
        uploaded_by=None,
    )
    return {
        **personas,
        "township": township,
        "group": group,
        "pairing": pairing,
        "account": account,
        "agreement": agreement,
        "person": person,
    }


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_persona_gets_the_expected_answer(client, world, name):
    method, target, expected = MATRIX[name]
    url = reverse(name, args=TARGETS[target](world))
    for persona in PERSONAS:
        client.force_login(world[persona])
        response = getattr(client, method)(url)
        assert response.status_code == expected[persona], f"{persona} {method.upper()} {url}"
        client.logout()


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_is_sent_to_login(client, world, name):
    method, target, _ = MATRIX[name]
    response = getattr(client, method)(reverse(name, args=TARGETS[target](world)))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
