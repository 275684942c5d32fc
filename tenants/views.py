"""Browser pages of tenancy: tenants, members, personal tokens and the audit log."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tenants.filtersets import AuditEventFilterSet
from tenants.forms import MemberAddForm, MemberRoleForm, TenantForm, TokenCreateForm
from tenants.selectors.audit import audit_can_view, audit_event_list
from tenants.selectors.memberships import membership_list, user_can_admin_tenant
from tenants.selectors.tenants import tenant_current, tenant_list
from tenants.selectors.tokens import token_list
from tenants.selectors.usage import tenant_quota, tenant_usage
from tenants.services.audit import client_ip
from tenants.services.memberships import membership_add, membership_change_role, membership_remove
from tenants.services.notebook_limits import tenant_set_notebook_idle_limit
from tenants.services.shares import tenant_set_share
from tenants.services.tenants import tenant_create, tenant_select, tenant_update, tenant_update_quota
from tenants.services.tokens import token_create, token_revoke


def _tenant(request, slug, *, admin: bool = False):
    """A tenant the user may see (else 404) and, with `admin`, manage (else 403)."""
    tenant = get_object_or_404(tenant_list(user=request.user), slug=slug)
    if admin and not user_can_admin_tenant(user=request.user, tenant=tenant):
        raise PermissionDenied("Only this tenant's admins and site admins may do this.")
    return tenant


def paginate(request, items, *, per_page: int = 20):
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _plain(value):
    return f"{value.normalize():f}" if isinstance(value, Decimal) else value


def _quota_rows(tenant) -> list[dict]:
    """Rows of the shared quota bars (frontend/_quota_bars.html)."""
    quota, usage = tenant_quota(tenant=tenant).as_dict(), tenant_usage(tenant=tenant).as_dict()
    return [
        {
            "name": name,
            "label": TenantForm.base_fields[f"quota_{name}"].label,
            "used": _plain(usage[name]),
            "limit": _plain(quota[name]),
            "over": usage[name] > quota[name],
            "message": "Over quota: a site admin lowered the limit below what is in use.",
        }
        for name in quota
    ]


def _apply_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@login_required
def tenant_list_page(request):
    page = paginate(request, tenant_list(user=request.user).order_by("slug"))
    return render(
        request,
        "tenants/tenant_list.html",
        {
            "page_obj": page,
            "tenants": page.object_list,
            "switchable": tenant_list(user=request.user).order_by("slug").only("slug", "name"),
            "current": tenant_current(request),
        },
    )


@login_required
def tenant_create_page(request):
    if not request.user.is_site_admin:
        raise PermissionDenied("Only site admins create tenants.")
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
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Tenant {tenant.slug} created.")
            return redirect("tenants:detail", slug=tenant.slug)
    return render(request, "tenants/tenant_form.html", {"form": form})


@login_required
@require_POST
def tenant_switch(request):
    tenant = _tenant(request, request.POST.get("tenant", ""))
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
    return {
        "tenant": tenant,
        "can_admin": can_admin,
        "rows": _quota_rows(tenant),
        "page_obj": memberships,
        "memberships": memberships.object_list if can_admin else None,
        "add_form": (add_form or MemberAddForm()) if can_admin else None,
        "role_choices": MemberRoleForm.base_fields["role"].choices,
    }


@login_required
def tenant_detail_page(request, slug):
    tenant = _tenant(request, slug)
    return render(request, "tenants/tenant_detail.html", _detail_context(request, tenant))


@login_required
def tenant_edit_page(request, slug):
    tenant = _tenant(request, slug, admin=True)
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
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("tenants:detail", slug=tenant.slug)
    return render(request, "tenants/tenant_form.html", {"form": form, "tenant": tenant})


@login_required
@require_POST
def member_add_page(request, slug):
    tenant = _tenant(request, slug, admin=True)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership_add(
                actor=request.user,
                tenant=tenant,
                user=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Added {form.cleaned_data['username'].username}.")
            return redirect("tenants:detail", slug=tenant.slug)
    # Errors are shown next to the fields of the add form, with what was typed.
    return render(
        request, "tenants/tenant_detail.html", _detail_context(request, tenant, add_form=form), status=400
    )


@login_required
@require_POST
def member_change_role_page(request, slug, username):
    tenant = _tenant(request, slug, admin=True)
    membership = get_object_or_404(membership_list(tenant=tenant), user__username=username)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        membership_change_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"], ip=client_ip(request)
        )
        messages.success(request, f"{username} is now {membership.get_role_display().lower()}.")
    return redirect("tenants:detail", slug=tenant.slug)


@login_required
@require_POST
def member_remove_page(request, slug, username):
    tenant = _tenant(request, slug, admin=True)
    membership = get_object_or_404(membership_list(tenant=tenant), user__username=username)
    membership_remove(actor=request.user, membership=membership, ip=client_ip(request))
    messages.success(request, f"Removed {username}.")
    return redirect("tenants:detail", slug=tenant.slug)


@login_required
def token_list_page(request):
    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = token_create(user=request.user, ip=client_ip(request), **form.cleaned_data)
        form = TokenCreateForm()
    return render(
        request,
        "tenants/token_list.html",
        {"tokens": token_list(user=request.user), "form": form, "new_key": new_key},
    )


@login_required
@require_POST
def token_revoke_page(request, pk):
    token = get_object_or_404(token_list(user=request.user), pk=pk)
    token_revoke(actor=request.user, token=token, ip=client_ip(request))
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("tenants:tokens")


@login_required
def audit_list_page(request):
    if not audit_can_view(user=request.user):
        raise PermissionDenied("Only site admins and tenant admins can read the audit log.")
    filterset = AuditEventFilterSet(data=request.GET or None)
    filterset.form.is_valid()
    try:
        page = paginate(request, audit_event_list(user=request.user, filters=request.GET), per_page=50)
    except ValidationError:
        page = paginate(request, [])
    return render(
        request,
        "tenants/audit_list.html",
        {"form": filterset.form, "page_obj": page, "events": page.object_list},
    )
