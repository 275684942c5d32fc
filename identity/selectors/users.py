from django.db.models import Exists, OuterRef

from identity.models import Account, ExternalIdentity
from tenants.models import User


def user_list():
    """Every account, with how it signs in, for site admins."""
    return (
        User.objects.annotate(
            external=Exists(ExternalIdentity.objects.filter(user=OuterRef("pk"))),
            must_change_password=Exists(
                Account.objects.filter(user=OuterRef("pk"), must_change_password=True)
            ),
        )
        .prefetch_related("external_identities")
        .order_by("username")
    )


def must_change_password(*, user) -> bool:
    return Account.objects.filter(user=user, must_change_password=True).exists()
