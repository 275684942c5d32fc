from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.health import healthz
from portal.metrics import metrics

# Unknown /api/ URLs and crashes answer in the API's error format; pages keep Django's.
handler404 = "common.api.errors.not_found_handler"
handler500 = "common.api.errors.server_error_handler"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own: no inline script to allow.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="frontend/api_docs.html"),
        name="api-docs",
    ),
    path("", include("frontend.urls")),
]
