from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        # Importing registers them: the login audit receivers and the OpenAPI token scheme.
        from tenants import receivers  # noqa: F401
        from tenants.api import authentication  # noqa: F401
