"""Export cells a spreadsheet would run as formulas come out with a leading ': in XLSX, and no export writes CSV."""

import ast
import io
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings

from shuangyong.lib import excel

TRIGGERS = ["=张三", "+李四", "-王五", "@赵六", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x","点")', "=cmd|'/C calc'!A0"]
APPS = ["units", "beneficiaries", "activities", "reports", "shuangyong"]


@pytest.mark.parametrize("text", TRIGGERS)
def test_every_trigger_is_prefixed_with_a_quote_in_a_string_cell(text):
    content = excel.write_workbook([excel.Sheet(title="名单", header=["姓名"], rows=[[text]])])
    cell = openpyxl.load_workbook(io.BytesIO(content))["名单"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == "'" + text.replace("\r", "\n")


def csv_writers():
    """(file, line) of every use of the csv module outside tests and the region table reader."""
    found = []
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv":
                    if node.attr not in ("DictReader", "reader"):
                        found.append(f"{path.relative_to(settings.BASE_DIR)}:{node.lineno} csv.{node.attr}")
                if isinstance(node, ast.Constant) and node.value == "text/csv":
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{node.lineno} text/csv")
    return found


def test_no_export_writes_csv_past_the_xlsx_writer():
    # RFC 4180 quoting does not neutralise formulas; every export goes through excel.write_workbook.
    assert csv_writers() == []
