from django.core.paginator import Paginator


def paginate(request, items, per_page=50, count=None):
    """Return the requested page; a bad page number gives the first or last page.

    `count`, when the caller already knows it (from its totals), saves the COUNT query over the rows.
    """
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page"))


class KeysFirst:
    """A queryset paged by its keys: a page reads the 50 keys at its offset, then only those rows.

    A deep OFFSET then skips over narrow key rows instead of whole rows with their joins.
    """

    def __init__(self, queryset):
        self.queryset = queryset

    def count(self):
        return self.queryset.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, window):
        keys = list(self.queryset.values_list("pk", flat=True)[window])
        rows = self.queryset.order_by().in_bulk(keys)
        return [rows[key] for key in keys]
