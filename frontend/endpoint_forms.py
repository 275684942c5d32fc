from django import forms

from catalog.models import Flavor


class EndpointCreateForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None, to_field_name="slug", empty_label=None)
    name = forms.CharField(max_length=63, help_text="Part of its URL: /endpoints/<tenant>/<name>/")
    model_name = forms.CharField(max_length=200, label="Registered model")
    model_version = forms.CharField(max_length=50, label="Version")
    min_replicas = forms.IntegerField(
        min_value=0, initial=1, label="Fewest replicas", help_text="0: scales to zero when idle"
    )
    max_replicas = forms.IntegerField(min_value=1, initial=2, label="Most replicas")
    flavor = forms.ModelChoiceField(
        queryset=Flavor.objects.filter(gpus=0), to_field_name="name", empty_label=None
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants


class EndpointVersionForm(forms.Form):
    model_version = forms.CharField(max_length=50, label="Roll to version")


class EndpointKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name", help_text="What will call the endpoint with it")


class EndpointTryForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "class": "font-monospace"}),
        label="Request (Open Inference Protocol JSON)",
    )
