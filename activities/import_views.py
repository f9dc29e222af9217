from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render

from shuangyong.lib.excel import workbook_response
from shuangyong.lib.forms import WorkbookImportForm

from . import importers


def _require_importer(user):
    if not importers.can_import(user):
        raise Http404


@login_required
def activity_import(request):
    """Import past years' activities: every row checked, all saved in one transaction or none."""
    _require_importer(request.user)
    form = WorkbookImportForm(request.POST or None, request.FILES or None)
    result, errors = None, []
    if form.is_valid():
        try:
            result = importers.activity_import(
                file=form.cleaned_data["file"], user=request.user, dry_run=form.cleaned_data["check_only"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            errors = result.sorted_errors()
    return render(
        request,
        "activities/import.html",
        {
            "form": form,
            "result": result,
            "errors": errors,
            "bad_rows": len({error.row for error in errors}),
            "summary": result.summary() if result and not errors else None,
            "max_rows": importers.max_rows(),
        },
    )


@login_required
def activity_import_template(request):
    _require_importer(request.user)
    return workbook_response(importers.activity_template(user=request.user), "双拥活动导入模板.xlsx")
