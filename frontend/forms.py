"""Forms of the sandbox and host pages: launching and resizing sandboxes, adding hosts."""

from django import forms

from catalog.models import CatalogItem
from catalog.selectors import catalog_item_list_launchable, flavor_list
from frontend.presenters import plain
from provisioning.models import Host
from tenants.models import SLUG_VALIDATOR

NODES_PREFIX = "nodes_"


def _flavor_label(flavor) -> str:
    gpus = f", {flavor.gpus} GPU" if flavor.gpus else ""
    size = f"{plain(flavor.cpus)} CPU, {flavor.memory_mib} MiB{gpus}, {flavor.disk_gib} GiB disk"
    return f"{flavor.name}: {size}"


def role_count_fields(item: CatalogItem, counts: dict[str, int] | None = None) -> dict[str, forms.Field]:
    """One number field per role whose node count the manifest lets the user choose."""
    fields = {}
    for role, spec in item.spec.roles.items():
        if spec.min_nodes == spec.max_nodes:
            continue
        fields[f"{NODES_PREFIX}{role}"] = forms.IntegerField(
            label=f"{role.capitalize()} nodes",
            min_value=spec.min_nodes,
            max_value=spec.max_nodes,
            initial=(counts or {}).get(role, spec.default_nodes),
            help_text=f"{spec.min_nodes} to {spec.max_nodes}.",
        )
    return fields


class SandboxLaunchForm(forms.Form):
    """Launch a sandbox from a catalog item. The node fields follow the chosen item's roles,
    so the form is built for one item (the `app` the page was opened with or the one posted)."""

    catalog_item = forms.ChoiceField(label="App")
    name = forms.CharField(
        max_length=63,
        validators=[SLUG_VALIDATOR],
        help_text="Lower-case letters, digits and hyphens; unique among your tenant's sandboxes.",
    )
    flavor = forms.ChoiceField(label="Size (flavor)", help_text="CPUs, memory and disk of every node.")

    def __init__(self, *args, item: CatalogItem | None, datataps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["catalog_item"].choices = [
            (i.slug, f"{i.name} {i.version}") for i in catalog_item_list_launchable()
        ]
        self.fields["flavor"].choices = [(f.name, _flavor_label(f)) for f in flavor_list()]
        if item is None:
            return
        self.fields["catalog_item"].initial = item.slug
        if item.default_flavor_id:
            self.fields["flavor"].initial = item.default_flavor.name
        self.fields.update(role_count_fields(item))
        if item.gpu_capable:
            self.fields["gpus_per_node"] = forms.IntegerField(
                label="GPUs per node",
                min_value=0,
                initial=0,
                required=False,
                help_text="0 or empty for a CPU-only sandbox.",
            )
        if datataps:
            self.fields["datataps"] = forms.MultipleChoiceField(
                label="DataTaps",
                required=False,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                choices=[
                    (tap.name, f"{tap.name} ({'read-only' if tap.read_only else 'read-write'})")
                    for tap in datataps
                ],
                help_text="Mounted at /data/<name> on every node.",
            )

    def nodes(self) -> dict[str, int]:
        """The node count of every role: the chosen ones, and the manifest's fixed ones."""
        counts = {role: spec.default_nodes for role, spec in self.item.spec.roles.items()}
        for name, value in self.cleaned_data.items():
            if name.startswith(NODES_PREFIX) and value is not None:
                counts[name.removeprefix(NODES_PREFIX)] = value
        return counts

    def field_for(self, key: str) -> str | None:
        """The form field that a service error about `key` belongs next to."""
        if key == "nodes":
            return next((name for name in self.fields if name.startswith(NODES_PREFIX)), None)
        return key if key in self.fields else None


class SandboxResizeForm(forms.Form):
    def __init__(self, *args, item: CatalogItem, counts: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(role_count_fields(item, counts))

    def nodes(self) -> dict[str, int]:
        return {name.removeprefix(NODES_PREFIX): value for name, value in self.cleaned_data.items()}


class HostAddForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[SLUG_VALIDATOR])
    url = forms.CharField(
        label="Engine URL",
        max_length=300,
        help_text="unix:///var/run/docker.sock, or tcp://address:2376 with the TLS files below.",
    )
    labels = forms.CharField(
        required=False, help_text="Comma-separated key=value pairs, e.g. zone=a,gpu=a100."
    )
    tls_ca_cert = forms.CharField(
        label="TLS CA certificate", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tls_client_cert = forms.CharField(
        label="TLS client certificate", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tls_client_key = forms.CharField(
        label="TLS client key", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith(("unix://", "tcp://")):
            raise forms.ValidationError("Use a unix:// socket path or a tcp:// address.")
        return url

    def clean_labels(self):
        labels = {}
        for pair in filter(None, (p.strip() for p in self.cleaned_data["labels"].split(","))):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"{pair!r} is not key=value.")
            labels[key.strip()] = value.strip()
        return labels


class PoolForm(forms.Form):
    """How many ready nodes of an item and flavor each host keeps (provisioning.services.pools)."""

    catalog_item = forms.ChoiceField(label="Catalog item")
    flavor = forms.ChoiceField(label="Flavor")
    size = forms.IntegerField(label="Ready nodes per host", min_value=0, initial=1)

    def __init__(self, *args, items=(), flavors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalog_item"].choices = [(i.slug, i.name) for i in items]
        self.fields["flavor"].choices = [(f.name, f.name) for f in flavors]


class HostStateForm(forms.Form):
    state = forms.ChoiceField(
        choices=[(s, s) for s in (Host.State.READY, Host.State.DRAINING, Host.State.DISABLED)]
    )
