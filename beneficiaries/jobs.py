"""Background jobs of the payments: generating a batch."""

from django.urls import reverse

from shuangyong.lib.jobs import JobFailed, job_runner
from shuangyong.lib.money import format_yuan

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


@job_runner(GENERATE_KIND)
def run_batch_generate(job, progress):
    """Generate a batch's draft rows; the same function the command runs."""
    batch = PaymentBatch.objects.editable_by(job.created_by).filter(pk=job.params.get("batch")).first()
    if batch is None:
        raise JobFailed("找不到该发放批次，或您没有生成它的权限。")
    counts = batch_generate(batch=batch, generated_by=job.created_by, progress=progress)
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
