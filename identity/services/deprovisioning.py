"""Accounts the directory disabled or removed: deactivated in the portal by a periodic pass, so
that their sessions and tokens stop too, not only their next password login."""

import logging

from django.conf import settings
from django.db import transaction

from identity.directory import directory_account_states
from identity.models import Account, ExternalIdentity
from identity.services.users import user_set_active
from tenants.models import User

logger = logging.getLogger(__name__)


def directory_accounts_check() -> list[str]:
    """Deactivate the active directory users the directory no longer lets sign in; the names of
    those deactivated. Does nothing when directory sign-in is off; a directory that does not
    answer changes nothing (DirectoryUnavailable)."""
    if not settings.PORTAL_LDAP_ENABLED:
        return []
    users = {
        user.username: user
        for user in User.objects.filter(
            is_active=True, external_identities__provider=ExternalIdentity.Provider.LDAP
        ).distinct()
    }
    states = directory_account_states(usernames=sorted(users))
    gone = [username for username, allowed in states.items() if not allowed]
    for username in gone:
        with transaction.atomic():
            user_set_active(
                actor=None,
                user=users[username],
                is_active=False,
                reason="disabled or removed in the directory",
            )
            Account.objects.update_or_create(
                user=users[username], defaults={"deactivated_by_directory": True}
            )
        logger.info("Deactivated %s: the directory disabled or removed the account", username)
    return gone


def directory_reactivate(*, user: User) -> User:
    """A user the directory check deactivated signed in through the directory again, so the
    directory lets them in again: reactivate. A site admin's deactivation stays."""
    if Account.objects.filter(user=user, deactivated_by_directory=True).exists():
        user_set_active(actor=None, user=user, is_active=True, reason="signed in through the directory again")
    return user
