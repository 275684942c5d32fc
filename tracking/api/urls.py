from django.urls import path

from tracking.api.tenants import TenantTrackingDataApi, TenantTrackingDetailApi

# Before tenants.api.urls in portal.api_urls: this route replaces tenants' own detail route.
urlpatterns = [
    path("tenants/<slug:slug>/", TenantTrackingDetailApi.as_view(), name="api-tenant-detail"),
    path("tenants/<slug:slug>/tracking/", TenantTrackingDataApi.as_view(), name="api-tenant-tracking"),
]
