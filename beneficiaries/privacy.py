"""Revealing personal data in full: one field of one person at a time, each reveal logged."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .constants import AccessKind
from .models import AccessLog, Beneficiary

security_logger = logging.getLogger("shuangyong.security")

REVEAL_PERMISSION = "beneficiaries.reveal_personal_data"
REVEAL_FIELDS = {"id_number": AccessKind.REVEAL_ID, "bank_account": AccessKind.REVEAL_BANK}


def can_reveal(user):
    return user.has_perm(REVEAL_PERMISSION)


@transaction.atomic
def personal_data_reveal(*, user, beneficiary, field, ip_address=None):
    """Return the full value of one field of one person and write the access-log row for it.

    An empty field reveals nothing and logs nothing.
    """
    if field not in REVEAL_FIELDS:
        raise ValueError(f"not a revealable field: {field}")
    if not can_reveal(user) or not Beneficiary.objects.visible_to(user).filter(pk=beneficiary.pk).exists():
        raise PermissionDenied
    value = getattr(beneficiary, field)
    if not value:
        return ""
    AccessLog.objects.create(
        user=user,
        unit_id=beneficiary.township_id,
        beneficiary=beneficiary,
        kind=REVEAL_FIELDS[field],
        ip_address=ip_address or None,
    )
    security_logger.info("reveal field=%s beneficiary=%s by=%s", field, beneficiary.pk, user.get_username())
    return value
