"""Forms of the tenant, member and token pages."""

from django import forms

from frontend.presenters import LABELS
from tenants.models import SLUG_VALIDATOR, Membership, Tenant
from tenants.resources import DIMENSIONS


class TenantForm(forms.Form):
    """Create or edit a tenant. Quota fields are present only for site admins."""

    slug = forms.CharField(max_length=50, validators=[SLUG_VALIDATOR])
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    quota_cpus = forms.DecimalField(label=LABELS["cpus"], min_value=0, max_digits=8, decimal_places=2)
    quota_memory_mib = forms.IntegerField(label=LABELS["memory_mib"], min_value=0)
    quota_gpus = forms.IntegerField(label=LABELS["gpus"], min_value=0)
    quota_storage_gib = forms.IntegerField(label=LABELS["storage_gib"], min_value=0)
    quota_sandboxes = forms.IntegerField(label=LABELS["sandboxes"], min_value=0)
    share = forms.IntegerField(
        label="Fair share",
        min_value=0,
        required=False,
        help_text="Weight in the launch queue when the site is full; 1 for every tenant is equal. "
        "Empty: unchanged (1 for a new tenant).",
    )
    notebook_idle_minutes = forms.IntegerField(
        label="Stop idle notebooks after (minutes)",
        min_value=1,
        required=False,
        help_text="A sandbox whose notebook had no activity this long is stopped (not deleted). "
        "Empty: never.",
    )

    def __init__(self, *args, tenant: Tenant | None = None, with_quota: bool = True, **kwargs):
        tenant = tenant or Tenant()
        initial = {field: getattr(tenant, field) for field in self.base_fields if field != "slug"}
        super().__init__(*args, initial=initial, **kwargs)
        if tenant.pk:
            del self.fields["slug"]
        else:
            del self.fields["notebook_idle_minutes"]  # set once the tenant exists
        if not with_quota:
            for dimension in DIMENSIONS:
                del self.fields[f"quota_{dimension}"]
            del self.fields["share"]

    def clean_share(self) -> int:
        share = self.cleaned_data.get("share")
        return self.initial["share"] if share is None else share

    def quota(self) -> dict:
        return {d: self.cleaned_data[f"quota_{d}"] for d in DIMENSIONS if f"quota_{d}" in self.cleaned_data}


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'CI pipeline'.")
    expires = forms.DateTimeField(
        required=False, help_text="Optional, e.g. 2030-01-31 12:00. Empty: the longest this site allows."
    )
