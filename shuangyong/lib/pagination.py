from django.core.paginator import Paginator


def paginate(request, items, per_page=50):
    """Return the requested page; a bad page number gives the first or last page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
