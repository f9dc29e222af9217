import os
import socket
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shuangyong.lib import jobs
from shuangyong.lib.jobs import JobFailed, job_start, run_job
from units.constants import JobStatus, UnitKind
from units.models import Job, Unit


@pytest.fixture
def calls(monkeypatch):
    """Register test runners; return the list of job ids they were called with."""
    seen = []

    def count(job, progress):
        seen.append(job.pk)
        progress(1, 1)
        return {"message": "已完成测试任务。"}

    monkeypatch.setitem(jobs.RUNNERS, "test_count", count)
    return seen


def test_it_runs_a_job_once_its_transaction_commits(office, calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_count", created_by=office, params={"x": 1})
        assert calls == []
    job.refresh_from_db()
    assert calls == [job.pk]
    assert job.status == JobStatus.DONE
    assert job.result == {"message": "已完成测试任务。"}
    assert job.finished_at is not None


def test_it_never_runs_a_job_whose_transaction_rolls_back(office, calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            job_start(kind="test_count", created_by=office)
            raise RuntimeError("请求失败")
    assert callbacks == []
    assert calls == []
    assert not Job.objects.exists()


def test_the_database_queue_gets_the_task_only_on_commit(settings, office, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            job_start(kind="test_count", created_by=office)
            raise RuntimeError("请求失败")
        job = job_start(kind="test_count", created_by=office)
        assert not DBTaskResult.objects.exists()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "shuangyong.lib.jobs.run_job"
    assert queued.args_kwargs["args"] == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


def test_it_saves_progress_while_the_runner_works(office, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    monkeypatch.setattr(jobs, "progress_for", jobs.Progress)  # through the runner's own connection
    seen = []

    def runner(job, progress):
        progress(0, 3)
        for done in range(1, 4):
            progress(done)
            row = Job.objects.get(pk=job.pk)
            seen.append((row.done, row.total, row.status))
        return {}

    monkeypatch.setitem(jobs.RUNNERS, "test_progress", runner)
    job = Job.objects.create(kind="test_progress", created_by=office)
    run_job.call(job.pk)
    assert seen == [(1, 3, JobStatus.RUNNING), (2, 3, JobStatus.RUNNING), (3, 3, JobStatus.RUNNING)]


def test_it_saves_the_first_and_last_progress_even_when_throttled(office, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 3600)
    monkeypatch.setattr(jobs, "progress_for", jobs.Progress)
    seen = []

    def runner(job, progress):
        for done in range(0, 5):
            progress(done, 4)
            seen.append(Job.objects.get(pk=job.pk).done)
        return {}

    monkeypatch.setitem(jobs.RUNNERS, "test_throttle", runner)
    run_job.call(Job.objects.create(kind="test_throttle", created_by=office).pk)
    assert seen == [0, 0, 0, 0, 4]


def test_a_failing_runner_leaves_nothing_half_done(office, county, monkeypatch):
    def runner(job, progress):
        with transaction.atomic():
            Unit.objects.create(name="半途单位", kind=UnitKind.DEPARTMENT, parent=county)
            raise KeyError("boom")

    monkeypatch.setitem(jobs.RUNNERS, "test_fail", runner)
    job = Job.objects.create(kind="test_fail", created_by=office)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "没有保存任何改动" in job.error
    assert not Unit.objects.filter(name="半途单位").exists()


def test_a_job_is_done_only_with_its_writes(office, county, monkeypatch):
    """The runner's writes and the DONE status commit together: a failure while recording it undoes both."""

    def runner(job, progress):
        Unit.objects.create(name="同批单位", kind=UnitKind.DEPARTMENT, parent=county)
        return {"message": "完成"}

    finish = jobs._finish

    def finish_failing_once(job, *, status, **kwargs):
        if status == JobStatus.DONE:
            raise RuntimeError("写入任务状态时出错")
        return finish(job, status=status, **kwargs)

    monkeypatch.setitem(jobs.RUNNERS, "test_together", runner)
    monkeypatch.setattr(jobs, "_finish", finish_failing_once)
    job = Job.objects.create(kind="test_together", created_by=office)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert not Unit.objects.filter(name="同批单位").exists()


def test_a_runner_can_refuse_with_the_rows_at_fault(office, monkeypatch):
    def runner(job, progress):
        raise JobFailed("发现 1 处问题。", errors=[{"row": "第 2 行", "message": "姓名：请填写姓名。"}])

    monkeypatch.setitem(jobs.RUNNERS, "test_refuse", runner)
    job = Job.objects.create(kind="test_refuse", created_by=office)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, "发现 1 处问题。")
    assert job.result["errors"] == [{"row": "第 2 行", "message": "姓名：请填写姓名。"}]


def test_a_job_runs_at_most_once(office, calls):
    job = Job.objects.create(kind="test_count", created_by=office)
    run_job.call(job.pk)
    run_job.call(job.pk)
    assert calls == [job.pk]


def test_an_unknown_kind_fails_with_a_message(office):
    job = Job.objects.create(kind="no_such_kind", created_by=office)
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "未知的任务类型" in job.error


def test_a_fresh_worker_finds_runners_in_app_modules():
    script = (
        "import django; django.setup(); from shuangyong.lib.jobs import get_runner; print(get_runner('units_import'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shuangyong.settings"}
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert "run_units_import" in output


def test_cleanup_removes_the_files_of_jobs_past_the_keeping_days_only(client, office, settings):
    settings.JOB_FILES_DAYS = 7
    now = timezone.now()

    def finished_job(days_ago, kind):
        job = Job.objects.create(kind=kind, created_by=office, status=JobStatus.DONE, finished_at=now)
        job.input_file.save("名册.xlsx", ContentFile(b"roster"), save=False)
        result = default_storage.save("exports/结果.xlsx", ContentFile(b"result"))
        job.result = {"file": result, "message": "已导出。", "next_url": f"/beneficiaries/export/{job.pk}/"}
        job.save()
        Job.objects.filter(pk=job.pk).update(finished_at=now - timedelta(days=days_ago))
        return job, [job.input_file.name, result]

    old, old_files = finished_job(8, "test_old")
    recent, recent_files = finished_job(6, "test_recent")
    output = StringIO()
    call_command("jobs_cleanup", stdout=output)

    assert "删除超过 7 天的任务文件 2 个" in output.getvalue()
    assert [default_storage.exists(name) for name in old_files] == [False, False]
    assert [default_storage.exists(name) for name in recent_files] == [True, True]
    old.refresh_from_db()
    assert not old.input_file and "file" not in old.result
    client.force_login(office)
    page = client.get(old.get_absolute_url()).content.decode()
    assert "已超过保留期，已被清理" in page
    assert f"/beneficiaries/export/{old.pk}/" not in page


def test_cleanup_queues_again_a_job_whose_worker_is_gone(office, county, calls, django_capture_on_commit_callbacks):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    job = Job.objects.create(
        kind="test_count",
        created_by=office,
        status=JobStatus.RUNNING,
        attempts=1,
        worker=f"{socket.gethostname()}:{gone.pid}",
    )
    output = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs_cleanup", stdout=output)
    assert f"任务 #{job.pk}（test_count）的工作进程已停止，已重新排队。" in output.getvalue()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert calls == [job.pk]
