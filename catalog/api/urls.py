from django.urls import path

from catalog.api.catalog import CatalogDetailApi, CatalogListApi, ImageBuildDetailApi, ImageBuildListApi
from catalog.api.flavors import FlavorDetailApi, FlavorListApi

urlpatterns = [
    path("catalog/", CatalogListApi.as_view(), name="api-catalog-list"),
    path("catalog/<slug:slug>/", CatalogDetailApi.as_view(), name="api-catalog-detail"),
    path("catalog-builds/", ImageBuildListApi.as_view(), name="api-image-build-list"),
    path("catalog-builds/<int:pk>/", ImageBuildDetailApi.as_view(), name="api-image-build-detail"),
    path("flavors/", FlavorListApi.as_view(), name="api-flavor-list"),
    path("flavors/<slug:name>/", FlavorDetailApi.as_view(), name="api-flavor-detail"),
]
