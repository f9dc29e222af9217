from django.http import Http404


def batch_list(request, pk=None):
    raise Http404


def batch_add(request, pk=None):
    raise Http404


def batch_detail(request, pk=None):
    raise Http404


def batch_generate(request, pk=None):
    raise Http404


def batch_approve(request, pk=None):
    raise Http404


def batch_paid(request, pk=None):
    raise Http404


def batch_bank_file(request, pk=None):
    raise Http404


def batch_sign_sheet(request, pk=None):
    raise Http404


def payment_return(request, pk=None):
    raise Http404


def ledger(request, pk=None):
    raise Http404


def yearly_summary(request, pk=None):
    raise Http404
