"""Background jobs run by real `db_worker` processes: killed midway, run twice, enqueued by a rollback."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from beneficiaries.constants import ChangeKind
from beneficiaries.importers import CHECK_KIND, SAVE_KIND
from beneficiaries.models import Beneficiary, StatusChange
from beneficiaries.tests.test_import import roster_row, workbook_bytes
from shuangyong.lib.jobs import job_start, jobs_recover, run_job
from units.constants import JobStatus
from units.models import Job, Unit

WORKER = Path(__file__).with_name("worker_process.py")
DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("工作进程与测试共用一个数据库：只在 PostgreSQL 上运行（SQLite 测试库在内存中）。")
    settings.TASKS = DB_QUEUE


@pytest.fixture
def workers(settings, tmp_path):
    """Start worker processes on the test database; return (start, log path); kill what is left at the end."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "WORKER_LOG": str(tmp_path / "runs.log"),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = []

    def start(*args, pause=None):
        process = subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            env={**env, "WORKER_PAUSE": str(pause or "")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start, tmp_path / "runs.log"
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for(condition, *, timeout=60, what="条件"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"等待超时：{what}")


def runs(log):
    """Return a Counter of job ids run, from the workers' log."""
    return Counter(int(line.split()[0]) for line in log.read_text().splitlines()) if log.exists() else Counter()


def kill_when_paused(process, pause):
    wait_for(pause.exists, what="工作进程写到一半")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def recover(job):
    """Run recovery until the database has noticed the dead worker's connection; return the job."""
    wait_for(lambda: job in jobs_recover()[0], timeout=30, what="中断的任务重新排队")
    job.refresh_from_db()
    return job


def test_a_worker_killed_midway_leaves_nothing_and_the_job_runs_again_once(workers, office, county, tmp_path):
    start, log = workers
    job = job_start(kind="test_units", created_by=office, params={"parent": county.pk, "count": 20})
    pause = tmp_path / "paused"
    kill_when_paused(start(pause=pause), pause)

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.attempts == 1
    assert not Unit.objects.filter(name__startswith=f"任务{job.pk}").exists()

    job = recover(job)
    assert (job.status, job.worker) == (JobStatus.PENDING, "")
    start("--batch").wait(timeout=120)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.attempts == 2
    assert job.result["message"] == "已建立 20 个部门。"
    assert Unit.objects.filter(name__startswith=f"任务{job.pk}").count() == 20
    assert runs(log) == {job.pk: 2}


def test_a_running_job_whose_worker_lives_is_left_alone(workers, office, county, tmp_path):
    start, _ = workers
    job = job_start(kind="test_units", created_by=office, params={"parent": county.pk, "count": 1})
    pause = tmp_path / "paused"
    process = start(pause=pause)
    wait_for(pause.exists, what="工作进程写到一半")
    assert jobs_recover() == ([], [])
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.worker.endswith(f":{process.pid}")


def test_a_job_interrupted_three_times_fails_with_a_message(workers, office, county, tmp_path):
    start, log = workers
    job = job_start(kind="test_units", created_by=office, params={"parent": county.pk, "count": 3})
    for attempt in range(1, 4):
        pause = tmp_path / f"paused{attempt}"
        kill_when_paused(start(pause=pause), pause)
        if attempt < 3:
            assert recover(job).status == JobStatus.PENDING
    wait_for(lambda: job in jobs_recover()[1], timeout=30, what="任务因多次中断而失败")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "多次中断" in job.error
    assert runs(log) == {job.pk: 3}
    assert not Unit.objects.filter(name__startswith=f"任务{job.pk}").exists()


def test_a_worker_killed_during_a_roster_import_leaves_no_partial_roster(
    workers, client, office, township, village, tmp_path
):
    start, _ = workers
    rows = [roster_row(n) for n in range(300)]
    client.force_login(office)
    response = client.post(
        reverse("beneficiaries:import"), {"file": SimpleUploadedFile("优抚对象.xlsx", workbook_bytes(rows))}
    )
    assert response.status_code == 302
    start("--batch").wait(timeout=120)
    check = Job.objects.get(kind=CHECK_KIND)
    assert check.status == JobStatus.DONE, check.error
    assert client.post(reverse("beneficiaries:import_confirm", args=[check.pk])).status_code == 302
    save = Job.objects.get(kind=SAVE_KIND)

    pause = tmp_path / "paused"
    kill_when_paused(start(pause=pause), pause)
    assert Beneficiary.objects.count() == 0
    assert StatusChange.objects.count() == 0

    assert recover(save).status == JobStatus.PENDING
    start("--batch").wait(timeout=180)
    save.refresh_from_db()
    assert save.status == JobStatus.DONE, save.error
    assert Beneficiary.objects.count() == 300
    assert StatusChange.objects.filter(kind=ChangeKind.ADD).count() == 300
    assert "已导入 300 名优抚对象" in client.get(save.get_absolute_url()).content.decode()


def test_two_workers_never_run_the_same_job(workers, office, county):
    start, log = workers
    jobs = [
        job_start(kind="test_units", created_by=office, params={"parent": county.pk, "count": 1, "sleep": 0.3})
        for _ in range(24)
    ]
    for job in jobs:
        run_job.enqueue(job.pk)  # each job queued twice, as a retried request would
    first, second = start(), start()
    wait_for(lambda: not Job.objects.exclude(status=JobStatus.DONE).exists(), timeout=120, what="全部任务完成")
    assert runs(log) == {job.pk: 1 for job in jobs}
    assert Unit.objects.filter(name__startswith="任务").count() == 24
    pids = {int(line.split()[1]) for line in log.read_text().splitlines()}
    assert pids == {first.pid, second.pid}


def test_a_job_enqueued_by_a_request_that_rolled_back_never_runs(workers, office, county):
    start, log = workers
    with pytest.raises(RuntimeError), transaction.atomic():
        job_start(kind="test_units", created_by=office, params={"parent": county.pk, "count": 1})
        raise RuntimeError("请求出错")
    start("--batch").wait(timeout=120)
    assert not Job.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert runs(log) == {}
    assert not Unit.objects.filter(name__startswith="任务").exists()
