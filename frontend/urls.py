"""Every page of the browser UI. The tenancy and catalog pages keep the namespaced names
("tenants:detail", "catalog:flavors") that templates and tests use."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend.views import (
    audit,
    catalog,
    dashboard,
    datataps,
    flavors,
    gateway,
    hosts,
    jobs,
    notebooks,
    sandboxes,
    tenants,
    tokens,
    usage,
)

tenant_urls = [
    path("tenants/", tenants.tenant_list_page, name="list"),
    path("tenants/new/", tenants.tenant_create_page, name="create"),
    path("tenants/switch/", tenants.tenant_switch, name="switch"),
    path("tenants/<slug:slug>/", tenants.tenant_detail_page, name="detail"),
    path("tenants/<slug:slug>/edit/", tenants.tenant_edit_page, name="edit"),
    path("tenants/<slug:slug>/members/add/", tenants.member_add_page, name="member-add"),
    path(
        "tenants/<slug:slug>/members/<str:username>/role/",
        tenants.member_change_role_page,
        name="member-role",
    ),
    path(
        "tenants/<slug:slug>/members/<str:username>/remove/",
        tenants.member_remove_page,
        name="member-remove",
    ),
    path("tokens/", tokens.token_list_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke_page, name="token-revoke"),
    path("audit/", audit.audit_list_page, name="audit"),
]

catalog_urls = [
    path("catalog/", catalog.catalog_list_page, name="list"),
    path("catalog/new/", catalog.catalog_add_page, name="add"),
    path("catalog/builds/<int:pk>/", catalog.image_build_page, name="build"),
    path("catalog/apps/<slug:slug>/", catalog.catalog_detail_page, name="detail"),
    path(
        "catalog/apps/<slug:slug>/enable/",
        catalog.catalog_set_enabled_page,
        {"enabled": True},
        name="enable",
    ),
    path(
        "catalog/apps/<slug:slug>/disable/",
        catalog.catalog_set_enabled_page,
        {"enabled": False},
        name="disable",
    ),
    path("flavors/", flavors.flavor_list_page, name="flavors"),
    path("flavors/new/", flavors.flavor_create_page, name="flavor-create"),
    path("flavors/<slug:name>/edit/", flavors.flavor_edit_page, name="flavor-edit"),
    path("flavors/<slug:name>/delete/", flavors.flavor_delete_page, name="flavor-delete"),
]

urlpatterns = [
    path("", include((tenant_urls, "tenants"))),
    path("", include((catalog_urls, "catalog"))),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("sandboxes/", sandboxes.sandbox_list_page, name="sandbox-list"),
    path("sandboxes/new/", sandboxes.sandbox_launch_page, name="sandbox-launch"),
    path("sandboxes/new/check/", sandboxes.sandbox_launch_check_page, name="sandbox-launch-check"),
    path("sandboxes/<int:pk>/", sandboxes.sandbox_detail_page, name="sandbox-detail"),
    path("sandboxes/<int:pk>/stop/", sandboxes.sandbox_stop_page, name="sandbox-stop"),
    path("sandboxes/<int:pk>/start/", sandboxes.sandbox_start_page, name="sandbox-start"),
    path("sandboxes/<int:pk>/resize/", sandboxes.sandbox_resize_page, name="sandbox-resize"),
    path("sandboxes/<int:pk>/delete/", sandboxes.sandbox_delete_page, name="sandbox-delete"),
    path("sandboxes/<int:pk>/logs/", sandboxes.node_logs_page, name="sandbox-logs"),
    path("sandboxes/<int:pk>/jupyter/", notebooks.notebook_open_page, name="notebook-open"),
    # Asked by the gateway (nginx) for every request it serves; and where a login it asked for returns.
    path("gateway/auth", gateway.gateway_auth, name="gateway-auth"),
    path("gateway/continue/", gateway.gateway_continue, name="gateway-continue"),
    path("sandboxes/<int:pk>/jobs/", jobs.sandbox_jobs_panel, name="sandbox-jobs"),
    path("sandboxes/<int:pk>/jobs/run/", jobs.job_run_page, name="job-run"),
    path("sandboxes/<int:pk>/jobs/validate/", jobs.job_validate_page, name="job-validate"),
    path("jobs/<int:pk>/", jobs.job_detail_page, name="job-detail"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel_page, name="job-cancel"),
    path("hosts/", hosts.host_list_page, name="host-list"),
    path("hosts/new/", hosts.host_add_page, name="host-add"),
    path("hosts/<int:pk>/state/", hosts.host_state_page, name="host-state"),
    path("hosts/<int:pk>/delete/", hosts.host_delete_page, name="host-delete"),
    path("usage/", usage.usage_page, name="usage"),
    path("datataps/", datataps.datatap_list_page, name="datatap-list"),
    path("datataps/new/", datataps.datatap_create_page, name="datatap-create"),
    path("datataps/<int:pk>/delete/", datataps.datatap_delete_page, name="datatap-delete"),
    path("datataps/prefixes/", datataps.hostpath_prefix_list_page, name="datatap-prefix-list"),
    path(
        "datataps/prefixes/<int:pk>/delete/",
        datataps.hostpath_prefix_delete_page,
        name="datatap-prefix-delete",
    ),
]
