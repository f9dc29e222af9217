from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from beneficiaries.selectors import batches_awaiting_approval
from reports.completeness import due_items

from .models import Job
from .permissions import is_director, memberships
from .selectors import scope_attention, scope_overview


@login_required
def home(request):
    return render(
        request,
        "home.html",
        {
            "overview": scope_overview(user=request.user),
            "attention": scope_attention(user=request.user, on=timezone.localdate()),
            "memberships": request.user.memberships.select_related("unit"),
            "batches_to_approve": batches_awaiting_approval(user=request.user) if is_director(request.user) else [],
            "due_reports": due_items(user=request.user, today=timezone.localdate()),
        },
    )


@login_required
def job_detail(request, pk):
    """Show a background job's progress; htmx polls the same URL for the progress fragment."""
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    template = "jobs/_progress.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job, "has_scope": bool(memberships(request.user))})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
