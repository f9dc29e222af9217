"""docs/security.md cites, for every item of the checklist, tests that exist."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

DOC = Path(settings.BASE_DIR) / "docs" / "security.md"
CHECKLIST_ITEMS = range(1, 26)
NODE_ID = re.compile(r"`([\w/]+\.py(?:::\w+)+)(?:\[[^\]`]*\])?`")
ITEM_ROW = re.compile(r"^\|\s*(\d+)\s*\|", re.M)


def doc_text():
    return DOC.read_text(encoding="utf-8")


def rows_by_item(text):
    """{item number: the text of its table row}."""
    rows = {}
    for found in ITEM_ROW.finditer(text):
        end = text.find("\n", found.start())
        rows[int(found.group(1))] = text[found.start() : end if end >= 0 else len(text)]
    return rows


@cache
def names_in(path):
    """Module-level test functions and Class::method names defined in a test file."""
    tree = ast.parse((Path(settings.BASE_DIR) / path).read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def missing_node_ids(text):
    missing = []
    for node_id in NODE_ID.findall(text):
        path, _, name = node_id.partition("::")
        if not (Path(settings.BASE_DIR) / path).is_file() or name not in names_in(path):
            missing.append(node_id)
    return missing


def test_every_cited_test_exists():
    cited = NODE_ID.findall(doc_text())
    assert len(cited) > 25
    assert missing_node_ids(doc_text()) == []


def test_every_checklist_item_cites_at_least_one_test():
    rows = rows_by_item(doc_text())
    assert sorted(rows) == list(CHECKLIST_ITEMS)
    assert [item for item, row in rows.items() if not NODE_ID.search(row)] == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("| 1 | x | `shuangyong/tests/test_idcard.py::test_no_such_test` | y |", "missing"),
        ("| 1 | x | `shuangyong/tests/no_such_file.py::test_it` | y |", "missing"),
        ("| 1 | x | **To be filled in** | y |", "no test"),
    ],
)
def test_the_checks_catch_a_rotten_document(text, problem):
    if problem == "missing":
        assert missing_node_ids(text) == [NODE_ID.search(text).group(1)]
    else:
        assert not NODE_ID.search(rows_by_item(text)[1])


def test_a_parametrized_id_is_checked_by_its_base_name():
    text = "`shuangyong/tests/test_idcard.py::test_it_rejects_wrong_lengths_and_says_how_many_were_given[a-17]`"
    assert NODE_ID.findall(text) == [
        "shuangyong/tests/test_idcard.py::test_it_rejects_wrong_lengths_and_says_how_many_were_given"
    ]
    assert missing_node_ids(text) == []
