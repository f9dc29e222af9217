from django.http import Http404


def activity_import(request, **kwargs):
    raise Http404


def activity_import_template(request, **kwargs):
    raise Http404
