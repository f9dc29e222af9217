"""Background jobs of the payments: generating a batch."""

import threading
import time

from django.db import connection, connections
from django.urls import reverse

from shuangyong.lib.jobs import PROGRESS_INTERVAL, JobFailed, job_runner
from shuangyong.lib.money import format_yuan
from units.models import Job

from .models import PaymentBatch
from .payment_services import GENERATE_KIND, batch_generate


def generation_message(batch, counts):
    """Say what a generation did, as the job page and the command print it."""
    if counts["created"] or counts["removed"]:
        done = f"新增 {counts['created']} 条发放记录"
        if counts["removed"]:
            done += f"，删除 {counts['removed']} 条不再应发的记录"
    else:
        done = "没有需要新增的发放记录"
    return (
        f"“{batch.title}”{done}。本批共 {counts['people']} 人，合计 {format_yuan(counts['amount'])}；"
        f"{counts['exceptions']} 项未纳入发放。"
    )


class CommittedProgress:
    """Write a job's progress through a connection of its own, so that the page sees it while the generation's
    one transaction is still open (PostgreSQL; SQLite would make the second connection wait for the first)."""

    def __init__(self, job):
        self.job = job
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
                if self.latest is not None:
                    done, total = self.latest
                    Job.objects.filter(pk=self.job.pk).update(done=done, total=total)
                time.sleep(PROGRESS_INTERVAL)
        finally:
            connections.close_all()

    def close(self):
        self.stopped = True
        self.changed.set()
        self.thread.join(timeout=10)


@job_runner(GENERATE_KIND)
def run_batch_generate(job, progress):
    """Generate a batch's draft rows; the same function the command runs."""
    batch = PaymentBatch.objects.editable_by(job.created_by).filter(pk=job.params.get("batch")).first()
    if batch is None:
        raise JobFailed("找不到该发放批次，或您没有生成它的权限。")
    outside = CommittedProgress(job) if connection.vendor == "postgresql" else None
    try:
        counts = batch_generate(batch=batch, generated_by=job.created_by, progress=outside or progress)
    finally:
        if outside is not None:
            outside.close()
    return {
        "message": generation_message(batch, counts),
        "created": counts["created"],
        "removed": counts["removed"],
        "people": counts["people"],
        "exceptions": counts["exceptions"],
        "amount": str(counts["amount"]),
        "next_url": reverse("payments:batch", args=[batch.pk]),
        "next_label": "查看批次",
    }
