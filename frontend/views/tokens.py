"""The personal API tokens page: create one (its key shown once) and revoke them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.client_ip import client_ip
from common.errors import Invalid
from common.forms import add_service_error
from frontend.tenant_forms import TokenCreateForm
from tenants.selectors.tokens import token_list
from tenants.services.tokens import token_create, token_revoke


@login_required
def token_list_page(request):
    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = token_create(user=request.user, ip=client_ip(request), **form.cleaned_data)
        except Invalid as error:
            add_service_error(form, error)
        else:
            form = TokenCreateForm()
    return render(
        request,
        "frontend/tokens/list.html",
        {"tokens": token_list(user=request.user), "form": form, "new_key": new_key},
    )


@login_required
@require_POST
def token_revoke_page(request, pk):
    token = get_object_or_404(token_list(user=request.user), pk=pk)
    token_revoke(actor=request.user, token=token, ip=client_ip(request))
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("tenants:tokens")
