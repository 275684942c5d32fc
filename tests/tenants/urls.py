"""The site's URLs plus the tenancy pages, until portal/urls.py includes them."""

from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("", include("tenants.urls")), *portal_urlpatterns]
