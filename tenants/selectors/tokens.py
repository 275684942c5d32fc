from tenants.models import Token


def token_list(*, user):
    """The user's tokens that were not revoked, newest first. Tokens are personal: a site admin
    sees only their own here too."""
    return Token.objects.filter(user=user, revoked__isnull=True)
