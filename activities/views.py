from django.http import Http404


def activity_create(request, **kwargs):
    raise Http404


def activity_detail(request, **kwargs):
    raise Http404


def activity_edit(request, **kwargs):
    raise Http404


def photo_add(request, **kwargs):
    raise Http404


def recipient_correct(request, **kwargs):
    raise Http404


def photo_image(request, **kwargs):
    raise Http404


def photo_thumbnail(request, **kwargs):
    raise Http404


def photo_remove(request, **kwargs):
    raise Http404


def recipient_search(request, **kwargs):
    raise Http404


def unit_options(request, **kwargs):
    raise Http404
