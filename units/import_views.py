from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from shuangyong.lib.excel import limit, workbook_response
from shuangyong.lib.forms import add_service_errors
from shuangyong.lib.jobs import job_start
from shuangyong.lib.uploads import display_name, files_atomic

from .forms import UnitImportForm
from .importers import IMPORT_KIND, unit_template
from .models import Job, Unit


def _require_office(user):
    if not Unit.objects.editable_by(user).exists():
        raise Http404


@login_required
def unit_import(request):
    """Upload a filled template; the import runs as a job whose page shows its progress."""
    _require_office(request.user)
    form = UnitImportForm(request.POST or None, request.FILES or None)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            with files_atomic(field="file"):
                job = job_start(
                    kind=IMPORT_KIND,
                    created_by=request.user,
                    params={"filename": display_name(upload)},
                    input_file=upload,
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(job)
    jobs = Job.objects.visible_to(request.user).filter(kind=IMPORT_KIND)[:10]
    return render(request, "units/import.html", {"form": form, "jobs": jobs, "max_rows": limit("EXCEL_MAX_ROWS")})


@login_required
def unit_import_template(request):
    _require_office(request.user)
    return workbook_response(unit_template(user=request.user), "单位及领导小组成员导入模板.xlsx")
