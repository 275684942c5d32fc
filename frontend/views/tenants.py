"""Tenant pages: the tenants a user sees and switches between, a tenant's quota and members,
creating (site admins) and editing (its admins) a tenant."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from common.client_ip import client_ip
from common.errors import Invalid, ServiceError
from common.forms import add_service_error
from frontend.presenters import usage_bars
from frontend.tenant_forms import MemberAddForm, MemberRoleForm, TenantForm
from frontend.views.guards import require_site_admin, visible_tenant
from frontend.views.paging import paginate
from tenants.selectors.memberships import membership_list, user_can_admin_tenant
from tenants.selectors.tenants import tenant_current, tenant_list
from tenants.selectors.usage import tenant_quota, tenant_usage
from tenants.services.memberships import membership_add, membership_change_role, membership_remove
from tenants.services.notebook_limits import tenant_set_notebook_idle_limit
from tenants.services.shares import tenant_set_share
from tenants.services.tenants import tenant_create, tenant_select, tenant_update, tenant_update_quota
from tracking.selectors import (
    tracking_server_failed,
    tracking_server_for,
    tracking_server_purgeable,
    tracking_server_ready_for,
)
from tracking.services import tracking_gateway_url, tracking_server_purge, tracking_set_enabled


@login_required
def tenant_list_page(request):
    page = paginate(request, tenant_list(user=request.user).order_by("slug"))
    return render(
        request,
        "frontend/tenants/list.html",
        {
            "page_obj": page,
            "tenants": page.object_list,
            "switchable": tenant_list(user=request.user).order_by("slug").only("slug", "name"),
            "current": tenant_current(request),
        },
    )


@login_required
def tenant_create_page(request):
    require_site_admin(request, "Only site admins create tenants.")
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenant_create(
                actor=request.user,
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                quota=form.quota(),
                share=form.cleaned_data["share"],
                ip=client_ip(request),
            )
        except Invalid as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Tenant {tenant.slug} created.")
            return redirect("tenants:detail", slug=tenant.slug)
    return render(request, "frontend/tenants/form.html", {"form": form})


@login_required
@require_POST
def tenant_switch(request):
    tenant = visible_tenant(request, request.POST.get("tenant", ""))
    tenant_select(request=request, tenant=tenant)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "tenants:list"
    return redirect(back)


def _detail_context(request, tenant, *, add_form=None) -> dict:
    can_admin = user_can_admin_tenant(user=request.user, tenant=tenant)
    memberships = paginate(request, membership_list(tenant=tenant)) if can_admin else None
    tracking_server = tracking_server_for(tenant=tenant)
    return {
        "tenant": tenant,
        "can_admin": can_admin,
        "rows": usage_bars(quota=tenant_quota(tenant=tenant), usage=tenant_usage(tenant=tenant)),
        "page_obj": memberships,
        "memberships": memberships.object_list if can_admin else None,
        "add_form": (add_form or MemberAddForm()) if can_admin else None,
        "role_choices": MemberRoleForm.base_fields["role"].choices,
        "tracking_server": tracking_server,
        "tracking_ready": tracking_server_ready_for(tenant=tenant) is not None,
        "tracking_failed": tracking_server_failed(server=tracking_server),
        "tracking_purgeable": tracking_server_purgeable(server=tracking_server),
        "tracking_url": tracking_gateway_url(tenant=tenant),
    }


@login_required
def tenant_detail_page(request, slug):
    tenant = visible_tenant(request, slug)
    return render(request, "frontend/tenants/detail.html", _detail_context(request, tenant))


@login_required
def tenant_edit_page(request, slug):
    tenant = visible_tenant(request, slug, admin=True)
    with_quota = request.user.is_site_admin
    form = TenantForm(request.POST or None, tenant=tenant, with_quota=with_quota)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        try:
            with transaction.atomic():
                tenant_update(
                    actor=request.user,
                    tenant=tenant,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    ip=ip,
                )
                if with_quota:
                    tenant_update_quota(actor=request.user, tenant=tenant, quota=form.quota(), ip=ip)
                    tenant_set_share(
                        actor=request.user, tenant=tenant, share=form.cleaned_data["share"], ip=ip
                    )
                idle = form.cleaned_data["notebook_idle_minutes"]
                tenant_set_notebook_idle_limit(actor=request.user, tenant=tenant, minutes=idle, ip=ip)
        except Invalid as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("tenants:detail", slug=tenant.slug)
    return render(request, "frontend/tenants/form.html", {"form": form, "tenant": tenant})


@login_required
@require_POST
def member_add_page(request, slug):
    tenant = visible_tenant(request, slug, admin=True)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership_add(
                actor=request.user,
                tenant=tenant,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                ip=client_ip(request),
            )
        except Invalid as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Added {form.cleaned_data['username']}.")
            return redirect("tenants:detail", slug=tenant.slug)
    # Errors are shown next to the fields of the add form, with what was typed.
    return render(
        request, "frontend/tenants/detail.html", _detail_context(request, tenant, add_form=form), status=400
    )


@login_required
@require_POST
def member_change_role_page(request, slug, username):
    tenant = visible_tenant(request, slug, admin=True)
    membership = get_object_or_404(membership_list(tenant=tenant), user__username=username)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            membership_change_role(
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"],
                ip=client_ip(request),
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{username} is now {membership.get_role_display().lower()}.")
    return redirect("tenants:detail", slug=tenant.slug)


@login_required
@require_POST
def member_remove_page(request, slug, username):
    tenant = visible_tenant(request, slug, admin=True)
    membership = get_object_or_404(membership_list(tenant=tenant), user__username=username)
    try:
        membership_remove(actor=request.user, membership=membership, ip=client_ip(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed {username}.")
    return redirect("tenants:detail", slug=tenant.slug)


@login_required
@require_POST
def tenant_tracking_page(request, slug):
    """The tenant page's switch of its MLflow tracking server (tenant admins)."""
    tenant = visible_tenant(request, slug, admin=True)
    enabled = request.POST.get("tracking") == "on"
    try:
        tracking_set_enabled(actor=request.user, tenant=tenant, enabled=enabled, ip=client_ip(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Experiment tracking is starting." if enabled else "Experiment tracking is being switched off.",
        )
    return redirect("tenants:detail", slug=tenant.slug)


@login_required
@require_POST
def tenant_tracking_purge_page(request, slug):
    tenant = visible_tenant(request, slug, admin=True)
    try:
        tracking_server_purge(actor=request.user, tenant=tenant, ip=client_ip(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The tracking server's runs, models and artifacts were deleted.")
    return redirect("tenants:detail", slug=tenant.slug)
