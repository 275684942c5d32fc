"""Forms of the DataTap pages; the services do the real checking."""

from django import forms

from provisioning.models import DataTap


class DataTapForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None, to_field_name="slug", empty_label=None)
    name = forms.RegexField(
        regex=r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
        max_length=50,
        help_text="Mounted at /data/<name> on every node.",
        error_messages={"invalid": "Use 1 to 50 lowercase letters, digits and inner hyphens."},
    )
    kind = forms.ChoiceField(choices=DataTap.Kind.choices, widget=forms.RadioSelect, initial="hostpath")
    path = forms.CharField(
        required=False, max_length=500, help_text="hostpath: the directory, present on every host."
    )
    server = forms.CharField(required=False, max_length=253, help_text="nfs: host name or IP address.")
    export = forms.CharField(
        required=False, max_length=500, help_text="nfs: the exported path, e.g. /exports/data."
    )
    options = forms.CharField(
        required=False, max_length=300, help_text="nfs: extra mount options, e.g. nfsvers=4.1,hard."
    )
    read_only = forms.BooleanField(required=False, initial=True, help_text="Nodes can read but not write.")

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants

    def clean(self):
        data = super().clean()
        required = ["path"] if data.get("kind") == DataTap.Kind.HOSTPATH else ["server", "export"]
        for field in required:
            if not data.get(field):
                self.add_error(field, "This field is required.")
        return data


class HostPathPrefixForm(forms.Form):
    path = forms.CharField(max_length=500, help_text="e.g. /srv/shared or /mnt/lustre")
