"""A `manage.py db_worker` process for the worker tests, with two additions set by the environment.

WORKER_LOG: each run of a job appends "<job id> <process id>" to this file, whether or not it commits.
WORKER_PAUSE: the first job to reach the end of its writes creates this file and then waits to be killed,
with its transaction open; any later run finds the file and goes on.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shuangyong.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from beneficiaries.importers import BeneficiaryImport  # noqa: E402
from shuangyong.lib.jobs import job_runner  # noqa: E402
from units.constants import UnitKind  # noqa: E402
from units.models import Unit  # noqa: E402

LOG = os.environ.get("WORKER_LOG")
PAUSE = os.environ.get("WORKER_PAUSE")


def pause_once():
    if PAUSE and not Path(PAUSE).exists():
        Path(PAUSE).write_text(str(os.getpid()))
        time.sleep(600)


@job_runner("test_units")
def run_test_units(job, progress):
    """Create params["count"] departments under params["parent"], as one import would."""
    with open(LOG, "a") as log:
        log.write(f"{job.pk} {os.getpid()}\n")
    parent = Unit.objects.get(pk=job.params["parent"])
    for n in range(job.params["count"]):
        Unit.objects.create(name=f"任务{job.pk}部门{n}", kind=UnitKind.DEPARTMENT, parent=parent)
    time.sleep(job.params.get("sleep", 0))
    pause_once()
    return {"message": f"已建立 {job.params['count']} 个部门。"}


create = BeneficiaryImport.create


def create_then_pause(self, **kwargs):
    created = create(self, **kwargs)
    pause_once()
    return created


BeneficiaryImport.create = create_then_pause

call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2", *sys.argv[1:])
