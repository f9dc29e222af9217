def client_ip(request):
    """The address a request came from, for audit and access logs (None without a request)."""
    return request.META.get("REMOTE_ADDR") if request is not None else None
