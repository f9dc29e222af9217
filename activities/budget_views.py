from django.http import Http404


def budget_overview(request, **kwargs):
    raise Http404


def budget_create(request, **kwargs):
    raise Http404


def budget_edit(request, **kwargs):
    raise Http404
