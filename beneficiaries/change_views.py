from django.http import Http404


def not_built(request, *args, **kwargs):
    raise Http404
