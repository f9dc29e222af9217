from axes.helpers import get_client_ip_address


def client_ip(request):
    """The address a request came from, for audit and access logs (None without a request).

    Behind nginx (AXES_PROXY_COUNT) it is the client's address from X-Forwarded-For, the same one the login
    lockout keys on; otherwise REMOTE_ADDR.
    """
    if request is None:
        return None
    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR")


def whole_number(value, *, digits=11):
    """The int a request or form value spells in plain ASCII digits (at most `digits`, blanks around ignored), else
    None. str.isdigit() also passes "²" or "١٢", which int() or an integer column refuses."""
    text = "" if value is None else str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None
