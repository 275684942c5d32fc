from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Sign-in with the organisation's accounts (LDAP / Active Directory, OpenID Connect), the
    group mappings that turn directory groups into tenant roles, and local user management."""

    name = "identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from identity import receivers  # noqa: F401 - connects the directory's error signal
