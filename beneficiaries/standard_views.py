from django.http import Http404


def standard_list(request, pk=None):
    raise Http404


def standard_add(request, pk=None):
    raise Http404


def standard_raise(request, pk=None):
    raise Http404


def backpay_add(request, pk=None):
    raise Http404


def one_off_add(request, pk=None):
    raise Http404
