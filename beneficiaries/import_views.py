from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shuangyong.lib.excel import XLSX_CONTENT_TYPE, workbook_response
from shuangyong.lib.forms import WorkbookUploadForm, add_service_errors
from shuangyong.lib.jobs import job_start
from shuangyong.lib.pagination import paginate
from shuangyong.lib.uploads import private_file_response
from units.constants import JobStatus
from units.models import Job

from . import exporters, importers
from .privacy import can_reveal

IMPORT_KINDS = (importers.CHECK_KIND, importers.SAVE_KIND)


class RosterUploadForm(WorkbookUploadForm):
    file_help = "请使用下载的导入模板，填好后上传 .xlsx 文件。"


def _require_importer(user):
    if not importers.can_import(user):
        raise Http404


@login_required
def beneficiary_import(request):
    """Upload a filled roster; the check runs as a job and its page previews the result."""
    _require_importer(request.user)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        try:
            job = importers.import_start(upload=form.cleaned_data["file"], created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("beneficiaries:import_job", pk=job.pk)
    jobs = Job.objects.visible_to(request.user).filter(kind__in=IMPORT_KINDS)[:10]
    return render(
        request,
        "beneficiaries/import.html",
        {"form": form, "jobs": jobs, "max_rows": importers.max_rows(), "check_kind": importers.CHECK_KIND},
    )


@login_required
def beneficiary_import_template(request):
    _require_importer(request.user)
    content = importers.beneficiary_template(scope=importers.Scope.of_user(request.user))
    return workbook_response(content, "优抚对象导入模板.xlsx")


@never_cache
@login_required
def beneficiary_import_job(request, pk):
    """Show a check's row errors or its counts and the confirm button, or an import's progress; htmx polls it."""
    _require_importer(request.user)
    job = get_object_or_404(Job.objects.visible_to(request.user).filter(kind__in=IMPORT_KINDS), pk=pk)
    save_job = None
    if job.kind == importers.CHECK_KIND and "save_job" in job.params:
        save_job = Job.objects.visible_to(request.user).filter(pk=job.params["save_job"]).first()
    context = {
        "job": job,
        "is_check": job.kind == importers.CHECK_KIND,
        "save_job": save_job,
        "errors": paginate(request, job.result.get("errors", []), per_page=200),
    }
    template = (
        "beneficiaries/import_status.html" if request.headers.get("HX-Request") else "beneficiaries/import_job.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def beneficiary_import_confirm(request, pk):
    """Save a checked roster; a second confirmation of the same upload starts nothing new."""
    _require_importer(request.user)
    check_job = get_object_or_404(Job.objects.visible_to(request.user).filter(kind=importers.CHECK_KIND), pk=pk)
    try:
        save_job, started = importers.import_confirm(check_job=check_job, confirmed_by=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("beneficiaries:import_job", pk=check_job.pk)
    if not started:
        messages.info(request, "该文件已确认导入，不会重复导入。")
    return redirect("beneficiaries:import_job", pk=save_job.pk)


@login_required
def beneficiary_export(request):
    """Download the list as filtered on the list page; a large list is written by a background job."""
    unmasked = request.GET.get("unmasked") == "1"
    if unmasked and not can_reveal(request.user):
        raise PermissionDenied
    on = timezone.localdate()
    query = request.GET.copy()
    for key in ("page", "unmasked"):
        query.pop(key, None)
    form = exporters.filter_form(user=request.user, query=query)
    people = exporters.filtered_people(user=request.user, form=form, on=on)
    count = people.count()
    description = exporters.describe_filters(form)
    if unmasked:
        exporters.export_log(
            user=request.user,
            unit=exporters.user_unit(request.user),
            description=description,
            count=count,
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    if count > exporters.BACKGROUND_FROM_ROWS:
        job = job_start(
            kind=exporters.EXPORT_KIND,
            created_by=request.user,
            params={"query": query.urlencode(), "unmasked": unmasked, "on": on.isoformat()},
            total=count,
        )
        return redirect(job)
    content = exporters.beneficiary_workbook(
        people=people,
        on=on,
        unmasked=unmasked,
        description=description,
        exported_by=exporters.display_name(request.user),
    )
    return workbook_response(content, exporters.export_filename(on, unmasked=unmasked))


@never_cache
@login_required
def beneficiary_export_download(request, pk):
    """Serve a finished background export to the user who asked for it, and to no one else."""
    job = get_object_or_404(
        Job.objects.visible_to(request.user).filter(kind=exporters.EXPORT_KIND, status=JobStatus.DONE), pk=pk
    )
    if job.params.get("unmasked") and not can_reveal(request.user):
        raise PermissionDenied
    name = job.result.get("file", "")
    if not name:
        raise Http404
    return private_file_response(
        name, filename=job.result.get("filename", "优抚对象名册.xlsx"), content_type=XLSX_CONTENT_TYPE
    )
