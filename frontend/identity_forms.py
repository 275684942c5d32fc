"""Forms of sign-in and user management: the login form, passwords, users, group mappings."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from identity.models import GroupMapping
from tenants.models import Tenant

DIRECTORY_MESSAGES = {
    "unreachable": (
        "The organisation's directory does not answer, so directory accounts cannot sign in "
        "right now. Try again in a few minutes; local accounts can still sign in."
    ),
    "failed": (
        "Sign-in with the organisation's directory is not working (the portal's own access to it "
        "was refused). Tell your site admin; local accounts can still sign in."
    ),
}


class LoginForm(AuthenticationForm):
    """Django's login form, telling a directory that is down or refuses the portal from a wrong
    password: the LDAP backend marks the request when the directory fails."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            problem = getattr(self.request, "directory_error", None)
            if problem is not None and settings.PORTAL_LDAP_ENABLED:
                raise ValidationError(DIRECTORY_MESSAGES[problem], code="directory_unavailable") from None
            raise


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password_again = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") != cleaned.get("new_password_again"):
            self.add_error("new_password_again", "The two new passwords differ.")
        return cleaned


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    password = forms.CharField(
        label="Temporary password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="The user must choose a new password at first login.",
    )
    is_site_admin = forms.BooleanField(label="Site admin", required=False)


class TemporaryPasswordForm(forms.Form):
    password = forms.CharField(
        label="Temporary password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Ends the user's sessions; they must choose a new password at next login.",
    )


class GroupMappingForm(forms.Form):
    group = forms.CharField(
        max_length=255, help_text="The group's name (ml-team) or DN (cn=ml-team,ou=groups,dc=example,dc=org)."
    )
    grant = forms.ChoiceField(label="Grants", choices=GroupMapping.Grant.choices)
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.all(), to_field_name="slug", required=False, help_text="Empty for site admin."
    )
