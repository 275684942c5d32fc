"""/api/v1/: each app contributes its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("tracking.api.urls")),
    path("", include("tenants.api.urls")),
    path("", include("identity.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("provisioning.api.urls")),
    path("", include("serving.api.urls")),
]
