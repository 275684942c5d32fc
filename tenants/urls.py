"""Browser pages; included at the site root (see the report of issue 3)."""

from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("tenants/", views.tenant_list_page, name="list"),
    path("tenants/new/", views.tenant_create_page, name="create"),
    path("tenants/switch/", views.tenant_switch, name="switch"),
    path("tenants/<slug:slug>/", views.tenant_detail_page, name="detail"),
    path("tenants/<slug:slug>/edit/", views.tenant_edit_page, name="edit"),
    path("tenants/<slug:slug>/members/add/", views.member_add_page, name="member-add"),
    path(
        "tenants/<slug:slug>/members/<str:username>/role/", views.member_change_role_page, name="member-role"
    ),
    path(
        "tenants/<slug:slug>/members/<str:username>/remove/", views.member_remove_page, name="member-remove"
    ),
    path("tokens/", views.token_list_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_page, name="token-revoke"),
    path("audit/", views.audit_list_page, name="audit"),
]
