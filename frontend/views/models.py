"""The Models page: a tenant's registered models and versions (its tracking server's registry),
each version with a Deploy button that opens the endpoint form filled in."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify

from serving.registry import RegistryUnavailable, registered_models
from tenants.models import Tenant


@login_required
def model_list_page(request):
    tenants = list(Tenant.objects.visible_to(request.user).filter(tracking=True).order_by("slug"))
    chosen = next(
        (t for t in tenants if t.slug == request.GET.get("tenant")), tenants[0] if tenants else None
    )
    models, problem = [], ""
    if chosen is not None:
        try:
            models = registered_models(tenant=chosen)
        except RegistryUnavailable as exc:
            problem = str(exc)
    deploy = reverse("endpoint-list")
    rows = [
        (
            model,
            [
                (
                    version,
                    f"{deploy}?"
                    + urlencode(
                        {
                            "tenant": chosen.slug,
                            "model_name": model.name,
                            "model_version": version.version,
                            "name": slugify(model.name)[:63],
                        }
                    ),
                )
                for version in model.versions
            ],
        )
        for model in models
    ]
    return render(
        request,
        "frontend/models/list.html",
        {"tenants": tenants, "tenant": chosen, "rows": rows, "problem": problem},
    )
