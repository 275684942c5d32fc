"""The site's URLs plus the catalog pages, until portal/urls.py includes them."""

from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [path("", include("catalog.urls")), *portal_urlpatterns]
