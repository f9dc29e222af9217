"""Administrative division codes: GB/T 2260 (6 digits) and 统计用区划代码 (12 digits)."""

import csv
import re
from functools import lru_cache
from pathlib import Path

from .constants import UnitKind

TABLE = Path(__file__).parent / "data" / "gb2260.csv"
TABLE_YEAR = 2023

_PREFIX_LEN = {
    UnitKind.PROVINCE: 2,
    UnitKind.CITY: 4,
    UnitKind.COUNTY: 6,
    UnitKind.TOWNSHIP: 9,
    UnitKind.VILLAGE: 12,
}


@lru_cache(maxsize=1)
def division_table():
    with TABLE.open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def division_name(code):
    return division_table().get(code[:6])


def significant_prefix(kind, code):
    return code[: _PREFIX_LEN.get(kind, 0)] if code else ""


def check_region_code(*, kind, code, parent=None):
    """Return a Chinese message that says what is wrong with the code, or None when it is fine."""
    if kind not in _PREFIX_LEN:
        return "只有行政区域单位（省、市、县区、乡镇街道、村社区）填写区划代码。" if code else None
    if not code:
        return "行政区域单位必须填写区划代码。"
    if kind in (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY):
        if not re.fullmatch(r"\d{6}", code):
            return "省、市、县区使用 6 位 GB/T 2260 行政区划代码。"
        if kind == UnitKind.PROVINCE and not code.endswith("0000"):
            return "省级代码应以 0000 结尾，如 320000。"
        if kind == UnitKind.CITY and (not code.endswith("00") or code.endswith("0000")):
            return "地市级代码应以 00 结尾（但不是 0000），如 320400。"
        if kind == UnitKind.COUNTY and code.endswith("00"):
            return "县区级代码的末两位不能是 00。"
        if code not in division_table():
            return f"区划代码 {code} 不在行政区划代码表（{TABLE_YEAR}年版）中。"
    else:
        if not re.fullmatch(r"\d{12}", code):
            return "乡镇街道、村社区使用 12 位统计用区划代码。"
        if kind == UnitKind.TOWNSHIP and (code[6:9] == "000" or code[9:] != "000"):
            return "乡镇街道代码第 7–9 位为乡镇编号、末 3 位为 000，如 320481100000。"
        if kind == UnitKind.VILLAGE and code[9:] == "000":
            return "村社区代码末 3 位为村居编号，不能是 000。"
        if code[:6] not in division_table():
            return f"区划代码前 6 位 {code[:6]} 不在行政区划代码表（{TABLE_YEAR}年版）中。"
    if parent is not None and parent.region_code:
        prefix = significant_prefix(parent.kind, parent.region_code)
        if prefix and not code.startswith(prefix):
            return f"区划代码应以上级单位“{parent.name}”的代码前缀 {prefix} 开头。"
    return None
