"""Long work as background jobs with progress: a view starts a Job, a db_worker runs it.

A runner is registered for a job kind with `@job_runner("kind")` in an app's importers.py,
exporters.py or jobs.py (the worker imports those modules on first use). It is called as
`runner(job, progress)`, reports with `progress(done, total)` and returns the job's result dict
(`message`, `next_url`, `next_label`, ...). It runs inside one transaction that also records the
job as done, so a failure, or a worker killed midway, leaves nothing half-done, and a job whose
worker died is queued again (jobs_recover) with no duplicate. On PostgreSQL progress is written
through a second connection so the page sees it meanwhile; on SQLite only once the job ends.
A runner stops with a message for the user by raising JobFailed or ValidationError.
"""

import logging
import os
import re
import socket
import threading
import time
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

from units.constants import JobStatus
from units.models import Job

from .uploads import files_atomic, random_name, store_file

logger = logging.getLogger(__name__)

RUNNERS = {}
RUNNER_MODULES = ("importers", "exporters", "jobs")
PROGRESS_INTERVAL = 0.5  # seconds between progress writes; the page polls once a second
MAX_ATTEMPTS = 3
FAILED_MESSAGE = "任务执行出错，没有保存任何改动。请稍后重试，或联系系统管理员。"
INTERRUPTED_MESSAGE = "任务多次中断（服务器重启或内存不足），没有保存任何改动。请联系系统管理员。"


class JobFailed(Exception):
    """Stop a job with a message for the user and, optionally, the rows at fault and a link onward."""

    def __init__(self, message, *, errors=None, next_url="", next_label=""):
        super().__init__(message)
        self.message = message
        self.result = {"errors": errors or []}
        if next_url:
            self.result.update(next_url=next_url, next_label=next_label)


def job_runner(kind):
    """Register the decorated function as the runner of jobs of this kind."""

    def register(func):
        RUNNERS[kind] = func
        return func

    return register


def get_runner(kind):
    if kind not in RUNNERS:
        autodiscover_modules(*RUNNER_MODULES)
    return RUNNERS.get(kind)


@files_atomic(field="file")
def job_start(*, kind, created_by, params=None, input_file=None, total=0):
    """Create a job and queue it once the surrounding transaction commits (never if it rolls back)."""
    job = Job(kind=kind, created_by=created_by, params=params or {}, total=total)
    if input_file is not None:
        extension = re.sub(r"[^a-z0-9]", "", os.path.splitext(input_file.name)[1].lower())[:10] or "bin"
        store_file(job.input_file, random_name(extension), input_file)
    job.save()
    transaction.on_commit(partial(run_job.enqueue, job.pk))
    return job


class Progress:
    """The callback a runner reports to; writes at most every PROGRESS_INTERVAL, always the last step.

    It writes through the runner's own connection, so inside the job's transaction the page sees the
    progress only at the end; CommittedProgress is used where a second connection can write meanwhile.
    """

    def __init__(self, job):
        self.job = job
        self.saved_at = None

    def __call__(self, done, total=None):
        job = self.job
        job.done = done
        if total is not None:
            job.total = total
        now = time.monotonic()
        if self.saved_at is not None and job.done < job.total and now - self.saved_at < PROGRESS_INTERVAL:
            return
        self.saved_at = now
        Job.objects.filter(pk=job.pk).update(done=job.done, total=job.total)

    def close(self):
        pass


class CommittedProgress(Progress):
    """Write progress through a connection of its own, so that the page sees it while the job's one transaction
    is still open (PostgreSQL; on SQLite the second connection would wait for the first)."""

    def __init__(self, job):
        super().__init__(job)
        self.latest = None
        self.changed = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def __call__(self, done, total=None):
        self.job.done = done
        if total is not None:
            self.job.total = total
        self.latest = (self.job.done, self.job.total)
        self.changed.set()

    def _write(self):
        try:
            while not self.stopped:
                self.changed.wait()
                self.changed.clear()
                if self.latest is not None and not self.stopped:
                    done, total = self.latest
                    Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(done=done, total=total)
                time.sleep(PROGRESS_INTERVAL)
        except DatabaseError:
            logger.warning("Job %s: progress could not be saved", self.job.pk)
        finally:
            connections.close_all()

    def close(self):
        self.stopped = True
        self.changed.set()
        self.thread.join(timeout=10)


def progress_for(job):
    return CommittedProgress(job) if connection.vendor == "postgresql" else Progress(job)


def _finish(job, *, status, result=None, error=""):
    job.status = status
    job.result = result or {}
    job.error = error
    job.finished_at = timezone.now()
    if status == JobStatus.DONE and job.total:
        job.done = job.total
    job.save(update_fields=["status", "result", "error", "done", "total", "finished_at"])


# A job's lease: on PostgreSQL a session advisory lock held by the worker's connection while it runs the job.
# The database drops it when the worker dies (process killed, machine gone), which is how a stuck job is told
# from a slow one. On SQLite (one machine) the worker's process id tells.
LEASE_CLASS = 5151


def _lease_take(job_id):
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LEASE_CLASS, job_id])
        return cursor.fetchone()[0]


def _lease_release(job_id):
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LEASE_CLASS, job_id])
    except DatabaseError:
        pass  # the connection is gone, and the lock with it


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_alive(job):
    """Whether the worker that claimed a running job still runs it."""
    if connection.vendor == "postgresql":
        if not _lease_take(job.pk):
            return True
        _lease_release(job.pk)
        return False
    host, _, pid = job.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: nothing here can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def jobs_recover():
    """Queue again each running job whose worker has died; its transaction rolled back, so it starts afresh.

    A job interrupted MAX_ATTEMPTS times is failed instead. Return the jobs queued again and the jobs failed.
    """
    queued, failed = [], []
    for job in Job.objects.filter(status=JobStatus.RUNNING).exclude(worker=""):
        if _worker_alive(job):
            continue
        stuck = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker)
        if job.attempts >= MAX_ATTEMPTS:
            if stuck.update(status=JobStatus.FAILED, error=INTERRUPTED_MESSAGE, finished_at=timezone.now()):
                failed.append(job)
            continue
        with transaction.atomic():
            if stuck.update(status=JobStatus.PENDING, worker="", done=0):
                transaction.on_commit(partial(run_job.enqueue, job.pk))
                queued.append(job)
        logger.warning("Job %s (%s): its worker %s stopped; queued again", job.pk, job.kind, job.worker)
    return queued, failed


def _drop_broken_connection():
    """Close a connection the database has cut, so that the outcome is recorded through a new one."""
    if not connection.in_atomic_block and connection.connection is not None and not connection.is_usable():
        connection.close()


def _run(job):
    runner = get_runner(job.kind)
    if runner is None:
        _finish(job, status=JobStatus.FAILED, error=f"未知的任务类型“{job.kind}”。")
        return
    progress = progress_for(job)
    try:
        # The outcome commits with the runner's writes: a worker killed before the end leaves neither. A refusal
        # (JobFailed, ValidationError) keeps what the runner recorded before it, such as an access log.
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            try:
                result = runner(job, progress)
            except JobFailed as failure:
                outcome = {"status": JobStatus.FAILED, "result": failure.result, "error": failure.message}
            except ValidationError as error:
                outcome = {"status": JobStatus.FAILED, "error": "；".join(error.messages)}
            else:
                outcome = {"status": JobStatus.DONE, "result": result}
            progress.close()
            _finish(job, **outcome)
    except Exception:
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        _drop_broken_connection()
        _finish(job, status=JobStatus.FAILED, error=FAILED_MESSAGE)
    finally:
        progress.close()


@task()
def run_job(job_id):
    """Run one job through its registered runner and record the outcome on the Job row."""
    jobs_recover()
    if not _lease_take(job_id):
        return  # another worker is running it
    try:
        claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
            status=JobStatus.RUNNING, worker=worker_name(), started_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            return  # already run, or gone: a job runs at most once
        _run(Job.objects.select_related("created_by").get(pk=job_id))
    finally:
        _lease_release(job_id)


# Result keys that name a file in storage; those files are kept for download for JOB_FILES_DAYS.
RESULT_FILE_KEYS = ("file", "rows_file")


def jobs_files_prune(*, finished_before):
    """Delete the uploaded and produced files of jobs finished before the given time; return how many."""
    removed = 0
    finished = Job.objects.filter(finished_at__lt=finished_before, status__in=[JobStatus.DONE, JobStatus.FAILED])
    for job in finished.iterator():
        names = [job.input_file.name] if job.input_file else []
        names += [job.result[key] for key in RESULT_FILE_KEYS if job.result.get(key)]
        if not names:
            continue
        for name in names:
            default_storage.delete(name)
        job.input_file = ""
        job.result = {**{k: v for k, v in job.result.items() if k not in RESULT_FILE_KEYS}, "files_pruned": True}
        job.save(update_fields=["input_file", "result"])
        removed += len(names)
    return removed
