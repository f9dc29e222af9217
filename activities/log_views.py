from django.http import Http404


def activity_list(request, **kwargs):
    raise Http404


def activity_export(request, **kwargs):
    raise Http404


def occasion_list(request, **kwargs):
    raise Http404


def occasion_detail(request, **kwargs):
    raise Http404
