from django import forms
from django.core.exceptions import ValidationError

from .excel import check_workbook


def add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError on the form: field errors by field, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class WorkbookUploadForm(forms.Form):
    """An .xlsx upload, checked (size, type, zip bomb, macros) before anything reads it."""

    file_help = ""

    file = forms.FileField(
        label="Excel 文件",
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
        error_messages={"required": "请选择要上传的 .xlsx 文件。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = self.file_help

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_workbook(upload)
        return upload


class WorkbookImportForm(WorkbookUploadForm):
    """A filled import template: checked only, or imported when every row is right."""

    file_help = "请使用下载的导入模板；全部行无误才导入，有一行有误则不导入任何数据。"

    check_only = forms.BooleanField(label="只检查，不导入", required=False)
