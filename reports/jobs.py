"""Job runners of the reports app, found by shuangyong.lib.jobs (it imports each app's jobs module)."""

from .summary_jobs import run_summary_pdf  # noqa: F401  (registers the runner)
