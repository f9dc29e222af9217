"""Refuse an edit made on an outdated copy of a record, and tell the user who changed it and when."""

from django.core.exceptions import ValidationError
from django.utils import timezone

STALE_MESSAGE = "该记录已被他人修改，您的修改没有保存。请刷新页面，核对后重新填写。"


def stale_error(record):
    """The ValidationError for an edit of `record` that someone else saved first, naming them from its history."""
    history = getattr(record, "history", None)
    last = history.select_related("history_user__profile").first() if history is not None else None
    user = last.history_user if last is not None else None
    if user is None:
        return ValidationError(STALE_MESSAGE, code="stale")
    profile = getattr(user, "profile", None)
    who = (profile.full_name if profile else "") or user.get_username()
    when = timezone.localtime(last.history_date)
    return ValidationError(
        f"该记录已被{who}于 {when:%Y-%m-%d %H:%M} 修改，您的修改没有保存。请刷新页面，核对后重新填写。",
        code="stale",
    )
