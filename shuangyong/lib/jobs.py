"""Long work as background jobs with progress: a view starts a Job, a db_worker runs it.

A runner is registered for a job kind with `@job_runner("kind")` in an app's importers.py,
exporters.py or jobs.py (the worker imports those modules on first use). It is called as
`runner(job, progress)`, reports with `progress(done, total)` and returns the job's result dict
(`message`, `next_url`, `next_label`, ...). It does all its writes in one transaction, so a
failure leaves nothing half-done; progress it saves inside that transaction is only seen once
the transaction commits, so report progress while checking, before writing.
A runner stops with a message for the user by raising JobFailed or ValidationError.
"""

import logging
import os
import re
import time
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

from units.constants import JobStatus
from units.models import Job

from .uploads import random_name

logger = logging.getLogger(__name__)

RUNNERS = {}
RUNNER_MODULES = ("importers", "exporters", "jobs")
PROGRESS_INTERVAL = 0.5  # seconds between progress writes; the page polls once a second


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


@transaction.atomic
def job_start(*, kind, created_by, params=None, input_file=None, total=0):
    """Create a job and queue it once the surrounding transaction commits (never if it rolls back)."""
    job = Job(kind=kind, created_by=created_by, params=params or {}, total=total)
    if input_file is not None:
        extension = re.sub(r"[^a-z0-9]", "", os.path.splitext(input_file.name)[1].lower())[:10] or "bin"
        job.input_file.save(random_name(extension), input_file, save=False)
    job.save()
    transaction.on_commit(partial(run_job.enqueue, job.pk))
    return job


class Progress:
    """The callback a runner reports to; writes at most every PROGRESS_INTERVAL, always the last step."""

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


def _finish(job, *, status, result=None, error=""):
    job.status = status
    job.result = result or {}
    job.error = error
    job.finished_at = timezone.now()
    if status == JobStatus.DONE and job.total:
        job.done = job.total
    job.save(update_fields=["status", "result", "error", "done", "total", "finished_at"])


@task()
def run_job(job_id):
    """Run one job through its registered runner and record the outcome on the Job row."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(status=JobStatus.RUNNING)
    if not claimed:
        return  # already run, or gone: a job runs at most once
    job = Job.objects.select_related("created_by").get(pk=job_id)
    runner = get_runner(job.kind)
    if runner is None:
        _finish(job, status=JobStatus.FAILED, error=f"未知的任务类型“{job.kind}”。")
        return
    with translation.override(settings.LANGUAGE_CODE):
        try:
            result = runner(job, Progress(job))
        except JobFailed as failure:
            _finish(job, status=JobStatus.FAILED, result=failure.result, error=failure.message)
        except ValidationError as error:
            _finish(job, status=JobStatus.FAILED, error="；".join(error.messages))
        except Exception:
            logger.exception("Job %s (%s) failed", job.pk, job.kind)
            _finish(
                job, status=JobStatus.FAILED, error="任务执行出错，没有保存任何改动。请稍后重试，或联系系统管理员。"
            )
        else:
            _finish(job, status=JobStatus.DONE, result=result)
