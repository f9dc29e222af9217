from axes.helpers import get_client_ip_address


def client_ip(request):
    """The address a request came from, for audit and access logs (None without a request).

    Behind nginx (AXES_PROXY_COUNT) it is the client's address from X-Forwarded-For, the same one the login
    lockout keys on; otherwise REMOTE_ADDR.
    """
    if request is None:
        return None
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR")
