import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from shuangyong.lib.http import client_ip

from .constants import AuditAction

logger = logging.getLogger("shuangyong.security")


def _record(action, *, request, user=None, username=""):
    from .services import audit_log

    username = username or (user.get_username() if user else "")
    logger.info("%s user=%s ip=%s", action, username, client_ip(request))
    audit_log(action=action, actor=user, target=user, username=username, ip_address=client_ip(request))


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    _record(AuditAction.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _record(AuditAction.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # credentials holds the password too; only the username is kept.
    _record(AuditAction.LOGIN_FAILED, request=request, username=str(credentials.get("username", ""))[:150])


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    _record(AuditAction.LOCKED_OUT, request=request, username=str(username or "")[:150])
