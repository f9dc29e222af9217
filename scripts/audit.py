"""Check the pinned requirements for known vulnerabilities with pip-audit (`make audit`).

A vulnerability found fails (exit 1). When the vulnerability database cannot be reached, or answers for none of
the packages, the packages are reported as 未检查 and the exit code is 0: nothing was proven either way.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]


def verdict(report):
    """Return (exit code, lines to print) for a pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    found = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    checked = len(dependencies) - len(skipped)
    if found:
        lines = [f"发现已知漏洞：{len(found)} 个软件包需要升级。"]
        for dep in found:
            for vuln in dep["vulns"]:
                fixed = "、".join(vuln.get("fix_versions") or []) or "暂无修复版本"
                lines.append(f"  {dep['name']} {dep.get('version', '')}：{vuln['id']}，修复版本 {fixed}")
        return 1, lines
    if dependencies and not checked:
        return 0, [
            f"未检查：漏洞数据库对全部 {len(dependencies)} 个软件包都没有答复（无法访问或被拦截），"
            "不能说明没有漏洞。请在能访问 pypi.org 或 osv.dev 的机器上重新运行 make audit。"
        ]
    lines = [f"已检查 {checked} 个软件包，未发现已知漏洞。"]
    if skipped:
        lines.append(f"另有 {len(skipped)} 个软件包未检查：" + "、".join(dep["name"] for dep in skipped))
    return 0, lines


def main():
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--vulnerability-service", service]
        for name in REQUIREMENTS:
            command += ["-r", str(ROOT / name)]
        # The files pin every package; --no-deps audits exactly those pins without building a temporary venv.
        command += ["--no-deps", "--disable-pip", "--format", "json", "--output", str(output)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if not output.exists():
            error = (result.stderr.strip().splitlines() or ["（无输出）"])[-1]
            network = ("ConnectionError", "ProxyError", "Timeout", "NameResolution", "Max retries", "ServiceError")
            if any(word in result.stderr for word in network):
                print(f"未检查：漏洞数据库（{service}）无法访问。{error[:200]}")
                return 0
            print(f"pip-audit 运行失败（退出码 {result.returncode}）：{error[:300]}")
            return result.returncode or 1
        code, lines = verdict(json.loads(output.read_text()))
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
