from django.core.paginator import Paginator


def paginate(request, items, per_page=50, count=None):
    """Return the requested page; a bad page number gives the first or last page.

    `count`, when the caller already knows it (from its totals), saves the COUNT query over the rows.
    """
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page"))
