from django.http import Http404


def plan_overview(request, **kwargs):
    raise Http404


def plan_detail(request, **kwargs):
    raise Http404


def plan_edit(request, **kwargs):
    raise Http404
