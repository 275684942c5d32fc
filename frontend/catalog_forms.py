"""Forms of the catalog and flavor pages."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator

from catalog.models import Flavor

MAX_UPLOAD_BYTES = 1 << 20


class CatalogItemAddForm(forms.Form):
    """A manifest for an image already in the registry or, with a Dockerfile, one to build."""

    manifest = forms.FileField(help_text="manifest.yaml")
    icon = forms.FileField(required=False, help_text="The SVG icon the manifest names")
    dockerfile = forms.FileField(
        required=False, help_text="Leave empty when the image is already in the registry"
    )

    def clean(self):
        cleaned = super().clean()
        for field in ("manifest", "icon", "dockerfile"):
            upload = cleaned.get(field)
            if not upload:
                cleaned[field] = ""
            elif upload.size > MAX_UPLOAD_BYTES:
                self.add_error(field, "must be at most 1 MiB")
            else:
                try:
                    cleaned[field] = upload.read().decode()
                except UnicodeDecodeError:
                    self.add_error(field, "must be UTF-8 text")
        return cleaned


class FlavorForm(forms.ModelForm):
    class Meta:
        model = Flavor
        fields = ["name", "description", "cpus", "memory_mib", "gpus", "disk_gib"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cpus"].validators.append(MinValueValidator(Decimal("0.01")))
        if self.instance.pk:
            # The name is the flavor's key in the API and in sandboxes: it never changes.
            self.fields["name"].disabled = True
