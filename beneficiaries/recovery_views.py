from django.http import Http404


def death_settle(request, pk=None):
    raise Http404


def recovery_list(request, pk=None):
    raise Http404


def recovery_settle(request, pk=None):
    raise Http404


def death_check(request, pk=None):
    raise Http404


def payment_import(request, pk=None):
    raise Http404


def payment_import_template(request, pk=None):
    raise Http404
