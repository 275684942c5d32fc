"""The sandbox pages against the fake engine: launch form errors where they belong, the
live check, actions and who may take them, htmx fragments, logs."""

import html
import re
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from provisioning.models import Operation, Sandbox, SandboxStatus
from provisioning.services.notebooks import notebook_gateway_url
from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create
from tenants.models import Membership, Tenant
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LAUNCH = {"catalog_item": "cluster", "name": "exp", "flavor": "small", "nodes_worker": "2"}


def launched(member, tenant, name="exp"):
    sandbox = sandbox_create(
        owner=member, tenant=tenant, name=name, catalog_item="cluster", flavor="small", nodes={"worker": 1}
    )
    operation = sandbox.operations.get()
    while operation_advance(operation_id=operation.pk).again_in is not None:
        pass
    sandbox.refresh_from_db()
    return sandbox


def test_the_launch_form_creates_the_sandbox(client, member, tenant, cluster_item, fake_host):
    client.force_login(member)

    response = client.post(reverse("sandbox-launch"), LAUNCH)

    sandbox = Sandbox.objects.get(name="exp")
    assert response.url == reverse("sandbox-detail", args=[sandbox.pk])
    assert (sandbox.tenant, sandbox.owner, sandbox.nodes.count()) == (tenant, member, 3)


def test_the_form_has_a_field_per_role_with_a_choice(client, member, tenant, cluster_item):
    client.force_login(member)

    form = client.get(reverse("sandbox-launch"), {"app": "cluster"}).context["form"]

    # head is always one node: nothing to choose.
    assert "nodes_head" not in form.fields
    assert (form.fields["nodes_worker"].min_value, form.fields["nodes_worker"].max_value) == (0, 4)
    assert "gpus_per_node" in form.fields


def test_over_quota_is_shown_on_the_field_that_asked(client, member, tenant, cluster_item, fake_host):
    Tenant.objects.filter(pk=tenant.pk).update(quota_gpus=1)
    client.force_login(member)

    response = client.post(reverse("sandbox-launch"), {**LAUNCH, "gpus_per_node": "1"})

    form = response.context["form"]
    assert "over its gpus quota" in " ".join(form.errors["gpus_per_node"])
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Sandbox.objects.exists()


def test_a_node_count_out_of_bounds_is_refused_next_to_it(client, member, tenant, cluster_item):
    client.force_login(member)

    response = client.post(reverse("sandbox-launch"), {**LAUNCH, "nodes_worker": "9"})

    assert response.context["form"].errors["nodes_worker"]
    assert not Sandbox.objects.exists()


def test_a_taken_name_is_refused_next_to_it(client, member, tenant, cluster_item, fake_host):
    client.force_login(member)
    client.post(reverse("sandbox-launch"), LAUNCH)

    response = client.post(reverse("sandbox-launch"), LAUNCH)

    assert "already exists" in " ".join(response.context["form"].errors["name"])
    assert Sandbox.objects.count() == 1


def test_no_capacity_is_said_above_the_form(client, member, tenant, cluster_item):
    client.force_login(member)

    response = client.post(reverse("sandbox-launch"), LAUNCH)

    assert "No host can take this sandbox" in " ".join(response.context["form"].non_field_errors())
    assert not Sandbox.objects.exists()


def test_the_live_check_counts_what_the_launch_would_hold(client, member, tenant, cluster_item, fake_host):
    Tenant.objects.filter(pk=tenant.pk).update(quota_cpus=Decimal("2"))
    client.force_login(member)

    fits = client.get(reverse("sandbox-launch-check"), {**LAUNCH, "nodes_worker": "1"})
    over = client.get(reverse("sandbox-launch-check"), LAUNCH)

    assert "Fits within the quota" in fits.content.decode()
    rows = {row["name"]: row for row in over.context["rows"]}
    assert (rows["cpus"]["asked"], rows["cpus"]["over"]) == ("3", True)
    assert rows["memory_mib"]["asked"] == 3 * 2048
    assert "would go over the quota: cpus (cores)" in over.content.decode()


def test_polling_gets_only_the_live_part(client, member, tenant, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(member)

    page = client.get(reverse("sandbox-detail", args=[sandbox.pk])).content.decode()
    fragment = client.get(reverse("sandbox-detail", args=[sandbox.pk]), HTTP_HX_REQUEST="true")

    assert "<html" in page and 'id="sandbox-live"' in page
    assert "<html" not in fragment.content.decode()
    assert fragment.context["sandbox"].status == SandboxStatus.RUNNING
    # Settled: the fragment no longer asks to be polled.
    assert 'hx-trigger="every' not in fragment.content.decode()


def test_a_busy_sandbox_keeps_being_polled(client, member, tenant, cluster_item, fake_host):
    sandbox = sandbox_create(owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small")
    client.force_login(member)

    fragment = client.get(reverse("sandbox-detail", args=[sandbox.pk]), HTTP_HX_REQUEST="true")

    assert 'hx-trigger="every 250ms"' in fragment.content.decode()


def _next_look(fragment) -> str:
    """The URL the live part asks next, as htmx reads it from the fragment."""
    return html.unescape(re.search(r'hx-get="([^"]+)"', fragment.content.decode()).group(1))


def test_a_look_at_an_unchanged_launch_renders_nothing_until_it_changes(
    client, member, tenant, cluster_item, fake_host
):
    """While a launch is under way the page looks often; as long as nothing moved, the answer
    is an empty 204 (htmx keeps the page), and the first look after the worker moved the
    sandbox on gets the new state."""
    sandbox = sandbox_create(owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small")
    client.force_login(member)
    fragment = client.get(reverse("sandbox-detail", args=[sandbox.pk]), HTTP_HX_REQUEST="true")
    look = _next_look(fragment)

    unchanged = client.get(look, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""

    operation = sandbox.operations.get()
    while operation_advance(operation_id=operation.pk).again_in is not None:
        pass
    changed = client.get(look, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200 and changed.context["sandbox"].status == SandboxStatus.RUNNING
    assert "hx-trigger" not in changed.content.decode()  # settled: no more looks


def test_an_unchanged_launch_is_still_rendered_at_the_old_pace(
    client, member, tenant, cluster_item, fake_host
):
    """What the stamp leaves out (a queued launch's position) is refreshed as before: a look
    whose page was rendered 2 s ago or more is answered in full, as is a page that sends no
    stamp, or an odd one."""
    sandbox = sandbox_create(owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small")
    client.force_login(member)
    look = _next_look(client.get(reverse("sandbox-detail", args=[sandbox.pk]), HTTP_HX_REQUEST="true"))
    stale = re.sub(r"at=[0-9.]+", f"at={time.time() - 2.5:.3f}", look)
    for url in (stale, re.sub(r"at=[0-9.]+", "at=soon", look), reverse("sandbox-detail", args=[sandbox.pk])):
        answer = client.get(url, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200 and 'id="sandbox-live"' in answer.content.decode()
    # The whole page (no htmx) is always rendered.
    assert client.get(look).status_code == 200


def test_stop_and_delete_from_the_page(client, member, tenant, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(member)

    client.post(reverse("sandbox-stop", args=[sandbox.pk]))
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPING
    operation = sandbox.operations.get(kind=Operation.Kind.STOP)
    while operation_advance(operation_id=operation.pk).again_in is not None:
        pass

    confirm = client.get(reverse("sandbox-delete", args=[sandbox.pk]))
    assert "Delete exp?" in confirm.content.decode()
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPED
    client.post(reverse("sandbox-delete", args=[sandbox.pk]))
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.DELETING


def test_a_refused_action_says_why(client, member, tenant, cluster_item, fake_host):
    sandbox = sandbox_create(owner=member, tenant=tenant, name="exp", catalog_item="cluster", flavor="small")
    client.force_login(member)

    response = client.post(reverse("sandbox-stop", args=[sandbox.pk]), follow=True)

    assert "is pending: its create operation is under way. Retry the stop once it has ended" in (
        response.content.decode()
    )
    assert not sandbox.operations.filter(kind=Operation.Kind.STOP).exists()


def test_only_the_owner_and_tenant_admins_change_a_sandbox(
    client, member, tenant, tenant_admin, cluster_item, fake_host
):
    from tenants.models import Membership
    from tenants.tests.factories import UserFactory

    colleague = UserFactory(username="bob")
    Membership.objects.create(user=colleague, tenant=tenant, role=Membership.Role.MEMBER)
    sandbox = launched(member, tenant)

    client.force_login(colleague)
    page = client.get(reverse("sandbox-detail", args=[sandbox.pk])).content.decode()
    assert ">Stop<" not in page
    assert client.post(reverse("sandbox-stop", args=[sandbox.pk])).status_code == 403

    client.force_login(tenant_admin)
    client.post(reverse("sandbox-stop", args=[sandbox.pk]))
    sandbox.refresh_from_db()
    assert sandbox.status == SandboxStatus.STOPPING


def test_another_tenants_sandbox_is_not_found(client, member, tenant, stranger, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(stranger)

    for name in ("sandbox-detail", "sandbox-delete", "sandbox-logs"):
        assert client.get(reverse(name, args=[sandbox.pk]), {"node": "1"}).status_code == 404
    assert client.post(reverse("sandbox-stop", args=[sandbox.pk])).status_code == 404
    assert client.get(reverse("sandbox-list")).context["page_obj"].paginator.count == 0


def test_a_nodes_logs(client, member, tenant, cluster_item, fake_host, engine):
    sandbox = launched(member, tenant)
    node = sandbox.nodes.get(role="head")
    client.force_login(member)

    response = client.get(reverse("sandbox-logs", args=[sandbox.pk]), {"node": node.pk})

    assert "fake log line" in response.content.decode()
    assert client.get(reverse("sandbox-logs", args=[sandbox.pk]), {"node": "x"}).status_code == 404


def test_an_unreachable_host_gives_the_reason_instead_of_logs(
    client, member, tenant, cluster_item, fake_host, engine
):
    sandbox = launched(member, tenant)
    node = sandbox.nodes.get(role="head")
    engine.reachable = False
    client.force_login(member)

    response = client.get(reverse("sandbox-logs", args=[sandbox.pk]), {"node": node.pk})

    assert "did not give the logs" in response.content.decode()


def test_resize_from_the_page(client, member, tenant, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(member)

    bad = client.post(reverse("sandbox-resize", args=[sandbox.pk]), {"nodes_worker": "99"})
    assert bad.status_code == 400 and bad.context["resize_form"].errors["nodes_worker"]

    client.post(reverse("sandbox-resize", args=[sandbox.pk]), {"nodes_worker": "2"})
    assert sandbox.operations.filter(kind=Operation.Kind.RESIZE).exists()


def test_datataps_of_the_tenant_are_offered_and_mounted(client, member, tenant, cluster_item, fake_host):
    from provisioning.models import DataTap

    tap = DataTap.objects.create(
        tenant=tenant, name="corpus", kind=DataTap.Kind.NFS, server="nas", export="/x"
    )
    client.force_login(member)

    form = client.get(reverse("sandbox-launch"), {"app": "cluster"}).context["form"]
    assert [name for name, _ in form.fields["datataps"].choices] == ["corpus"]
    client.post(reverse("sandbox-launch"), {**LAUNCH, "datataps": ["corpus"]})

    assert list(Sandbox.objects.get(name="exp").datataps.all()) == [tap]


def test_a_datatap_of_another_tenant_is_not_a_choice(client, member, tenant, cluster_item, fake_host):
    from provisioning.models import DataTap
    from tenants.tests.factories import TenantFactory

    DataTap.objects.create(tenant=tenant, name="corpus", kind=DataTap.Kind.NFS, server="nas", export="/x")
    DataTap.objects.create(
        tenant=TenantFactory(slug="globex"), name="secret", kind=DataTap.Kind.NFS, server="n", export="/y"
    )
    client.force_login(member)

    response = client.post(reverse("sandbox-launch"), {**LAUNCH, "datataps": ["secret"]})

    assert "secret is not one of the available choices" in response.context["form"].errors["datataps"][0]
    assert not Sandbox.objects.exists()


def test_a_member_of_no_tenant_is_told_so(client, cluster_item):
    from tenants.tests.factories import UserFactory

    client.force_login(UserFactory(username="loner"))

    response = client.get(reverse("sandbox-launch"), follow=True)

    assert "You belong to no tenant yet" in response.content.decode()


def test_open_jupyter_is_offered_for_a_running_notebook_only(client, member, tenant, small, fake_host):
    from tests.catalog.factories import CatalogItemFactory

    CatalogItemFactory(slug="notebook", default_flavor=small)
    notebook = sandbox_create(owner=member, tenant=tenant, name="nb", catalog_item="notebook", flavor="small")
    client.force_login(member)
    url = reverse("sandbox-detail", args=[notebook.pk])
    assert "Open Jupyter" not in client.get(url).content.decode()

    operation = notebook.operations.get()
    while operation_advance(operation_id=operation.pk).again_in is not None:
        pass

    # Its owner goes straight to JupyterLab through the gateway (which checks who passes)...
    notebook.refresh_from_db()
    page = client.get(url).content.decode()
    assert f'href="{notebook_gateway_url(sandbox=notebook)}"' in page
    assert notebook_gateway_url(sandbox=notebook).startswith(f"{settings.GATEWAY_URL}/gateway/")
    # ...a colleague who may not use it is offered nothing.
    colleague = UserFactory(username="colleague")
    Membership.objects.create(user=colleague, tenant=tenant, role=Membership.Role.MEMBER)
    client.force_login(colleague)
    assert "Open Jupyter" not in client.get(url).content.decode()


def test_no_jupyter_button_for_an_app_without_jupyter(client, member, tenant, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(member)

    assert "Open Jupyter" not in client.get(reverse("sandbox-detail", args=[sandbox.pk])).content.decode()


@pytest.mark.parametrize("status", list(SandboxStatus))
def test_the_page_offers_the_actions_the_api_lists(client, member, tenant, cluster_item, fake_host, status):
    sandbox = launched(member, tenant)
    Sandbox.objects.filter(pk=sandbox.pk).update(status=status)
    client.force_login(member)

    actions = client.get(f"/api/v1/sandboxes/{sandbox.pk}/").json()["actions"]
    page = client.get(reverse("sandbox-detail", args=[sandbox.pk])).content.decode()

    # A queued launch's delete is offered as cancelling it.
    buttons = {
        "start": [">Start<"],
        "stop": [">Stop<"],
        "delete": [">Delete…<", ">Cancel launch…<"],
        "resize": [">Resize<"],
    }
    assert {action for action, labels in buttons.items() if any(b in page for b in labels)} == set(actions)


def test_the_operations_panel_shows_each_phase(client, member, tenant, cluster_item, fake_host):
    sandbox = launched(member, tenant)
    client.force_login(member)

    page = client.get(reverse("sandbox-detail", args=[sandbox.pk])).content.decode()

    phases = page.split('aria-label="Phases of create"', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r'<li [^>]*title="[^"]*">(\w+)', phases) == [
        "queued",
        "placed",
        "network",
        "started",
        "ready",
    ]
    assert 'title="Every node answers at ' in phases
