"""Browser pages; meant to be included at the site root: path("", include("catalog.urls"))."""

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog/", views.catalog_list_page, name="list"),
    path("catalog/new/", views.catalog_add_page, name="add"),
    path("catalog/builds/<int:pk>/", views.image_build_page, name="build"),
    path("catalog/apps/<slug:slug>/", views.catalog_detail_page, name="detail"),
    path(
        "catalog/apps/<slug:slug>/enable/", views.catalog_set_enabled_page, {"enabled": True}, name="enable"
    ),
    path(
        "catalog/apps/<slug:slug>/disable/",
        views.catalog_set_enabled_page,
        {"enabled": False},
        name="disable",
    ),
    path("flavors/", views.flavor_list_page, name="flavors"),
    path("flavors/new/", views.flavor_create_page, name="flavor-create"),
    path("flavors/<slug:name>/edit/", views.flavor_edit_page, name="flavor-edit"),
    path("flavors/<slug:name>/delete/", views.flavor_delete_page, name="flavor-delete"),
]
