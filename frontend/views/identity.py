"""Sign-in (password form, OpenID Connect, logout), each user's own password, and the site
admin pages of users and group mappings."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from common.client_ip import client_ip
from common.errors import ServiceError
from frontend.identity_forms import (
    GroupMappingForm,
    LoginForm,
    PasswordChangeForm,
    TemporaryPasswordForm,
    UserCreateForm,
)
from frontend.views.paging import paginate
from identity.middleware import MUST_CHANGE_PASSWORD
from identity.oidc import ProviderUnavailable, oidc_setting, provider_logout_url
from identity.selectors.mappings import group_mapping_list
from identity.selectors.users import must_change_password, user_list
from identity.services.logins import openid_login_refused
from identity.services.mappings import group_mapping_create, group_mapping_delete
from identity.services.users import (
    password_change,
    user_create,
    user_set_active,
    user_set_temporary_password,
)


def _require_site_admin(request) -> None:
    if not request.user.is_site_admin:
        raise PermissionDenied("Only site admins manage users and group mappings.")


def _form_errors(form, error: ServiceError) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
    if not error.fields:
        form.add_error(None, error.message)


class PortalLoginView(LoginView):
    """The password form (local and directory accounts) beside "Sign in with <provider>"."""

    form_class = LoginForm
    template_name = "registration/login.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.PORTAL_OIDC_ENABLED
        context["oidc_provider_name"] = settings.PORTAL_OIDC_PROVIDER_NAME
        context["password_form_shown"] = (
            not settings.PORTAL_OIDC_ENABLED
            or settings.PORTAL_LOGIN_PASSWORD_FORM
            or "local" in self.request.GET
        )
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        if must_change_password(user=form.get_user()):
            self.request.session[MUST_CHANGE_PASSWORD] = True
            messages.warning(self.request, "Your password is temporary: choose your own to continue.")
            return redirect("password-change")
        return response


class OpenIDStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and PKCE challenge kept in the session)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The base class reads the authorization endpoint here; a provider that is down must
        # give the login page a message, not a server error, so it is read in get().
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable:
            messages.error(
                request,
                f"{settings.PORTAL_OIDC_PROVIDER_NAME} does not answer; try again in a few minutes.",
            )
            return redirect("login")
        return super().get(request)


class OpenIDCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer. A wrong or reused state, a replayed code or an id token that fails
    its checks signs nobody in and creates nothing."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            return self._refuse(str(error))

    def login_failure(self):
        return self._refuse(self.request.GET.get("error", "sign-in was not completed"))

    def _refuse(self, reason: str):
        openid_login_refused(reason=reason, ip=client_ip(self.request))
        return redirect(settings.LOGIN_REDIRECT_URL_FAILURE)


@require_POST
def logout_page(request):
    """Ends the portal session, and the provider's where the user came through one that has an
    end-session endpoint."""
    provider_url = provider_logout_url(request) if settings.PORTAL_OIDC_ENABLED else None
    logout(request)
    return redirect(provider_url or settings.LOGOUT_REDIRECT_URL)


@login_required
def password_change_page(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except ServiceError as error:
            _form_errors(form, error)
        else:
            update_session_auth_hash(request, user)
            request.session.pop(MUST_CHANGE_PASSWORD, None)
            messages.success(request, "Your password is changed.")
            return redirect("dashboard")
    return render(request, "frontend/users/password_change.html", {"form": form})


@login_required
def user_list_page(request):
    _require_site_admin(request)
    page = paginate(request, user_list())
    return render(request, "frontend/users/list.html", {"page_obj": page, "users": page.object_list})


@login_required
def user_create_page(request):
    _require_site_admin(request)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except ServiceError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, f"User {user.username} created; they choose their password at first login."
            )
            return redirect("user-detail", pk=user.pk)
    return render(request, "frontend/users/create.html", {"form": form})


@login_required
def user_detail_page(request, pk: int):
    _require_site_admin(request)
    shown = get_object_or_404(user_list(), pk=pk)
    form = TemporaryPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_set_temporary_password(
                actor=request.user, user=shown, password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except ServiceError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"{shown.username} has a temporary password now.")
            return redirect("user-detail", pk=shown.pk)
    context = {"shown": shown, "form": form, "memberships": shown.memberships.select_related("tenant")}
    return render(request, "frontend/users/detail.html", context)


@login_required
@require_POST
def user_active_page(request, pk: int):
    _require_site_admin(request)
    shown = get_object_or_404(user_list(), pk=pk)
    is_active = request.POST.get("is_active") == "true"
    try:
        user_set_active(actor=request.user, user=shown, is_active=is_active, ip=client_ip(request))
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if is_active:
            messages.success(request, f"{shown.username} can sign in again.")
        else:
            messages.success(
                request, f"{shown.username} is deactivated: their sessions and API tokens stopped."
            )
    return redirect("user-detail", pk=shown.pk)


@login_required
def group_mapping_list_page(request):
    _require_site_admin(request)
    form = GroupMappingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mapping = group_mapping_create(actor=request.user, ip=client_ip(request), **form.cleaned_data)
        except ServiceError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Mapped: {mapping}. It applies at each member's next login.")
            return redirect("group-mapping-list")
    context = {
        "form": form,
        "mappings": group_mapping_list(),
        "settings_mappings": settings.PORTAL_GROUP_MAPPINGS,
    }
    return render(request, "frontend/users/group_mappings.html", context)


@login_required
@require_POST
def group_mapping_delete_page(request, pk: int):
    _require_site_admin(request)
    mapping = get_object_or_404(group_mapping_list(), pk=pk)
    group_mapping_delete(actor=request.user, mapping=mapping, ip=client_ip(request))
    messages.success(request, f"Mapping removed: {mapping}. Members keep it until their next login.")
    return redirect("group-mapping-list")
