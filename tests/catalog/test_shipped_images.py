"""Every image of catalog/images is built (or found up to date), pushed, synced into the
catalog, and a container of it started as the platform starts nodes becomes healthy."""

import io
import secrets
import time
import urllib.request
from contextlib import redirect_stdout

import pytest
from django.core.management import call_command

from catalog.models import CatalogItem
from catalog.services.build_context import NEEDS_WHEEL_RE
from catalog.services.images import image_dirs
from catalog.services.layers import layers_for

SHIPPED = [folder.name for folder in image_dirs()]
NS = 1_000_000_000


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """`manage.py catalog_build` once for the module: its output and how long it took."""
    out = io.StringIO()
    with django_db_blocker.unblock(), redirect_stdout(out):
        started = time.monotonic()
        call_command("catalog_build", stdout=out)
        seconds = time.monotonic() - started
    print(f"catalog_build took {seconds:.1f}s:\n{out.getvalue()}")  # shown with -s / -rP: cold vs cached
    yield out.getvalue()
    with django_db_blocker.unblock():
        CatalogItem.objects.filter(slug__in=SHIPPED).delete()


def start_node(docker_client, item: CatalogItem, *, token: str):
    """Start the head node of `item` the way the platform does: unprivileged, every
    capability dropped, no privilege escalation, the manifest's healthcheck."""
    manifest = item.spec
    check = manifest.head.healthcheck
    return docker_client.containers.run(
        item.image,
        detach=True,
        name=f"pytest-catalog-{item.slug}-{secrets.token_hex(4)}",
        user=manifest.user.container_user,
        cap_drop=["ALL"],
        cap_add=list(manifest.capabilities) or None,
        security_opt=["no-new-privileges"],
        environment={**manifest.environment, "SANDBOX_ROLE": "head", "JUPYTER_TOKEN": token},
        healthcheck={
            "test": list(check.test),
            "interval": check.interval_s * NS,
            "timeout": check.timeout_s * NS,
            "retries": check.retries,
            "start_period": check.start_period_s * NS,
        },
        labels={"org.sandbox-portal.test": "catalog"},
    )


def wait_healthy(container, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state["Status"] != "running":
            raise AssertionError(
                f"{container.name} is {state['Status']}:\n{container.logs().decode()[-3000:]}"
            )
        if state.get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    log = state.get("Health", {}).get("Log", [])[-1:]
    raise AssertionError(
        f"{container.name} not healthy after {seconds}s: {log}\n{container.logs().decode()[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("slug", SHIPPED)
def test_shipped_image_is_published_and_its_node_becomes_healthy(slug, built, docker_client, registry):
    from catalog.services.build_context import images_root

    assert f"{slug}: " in built
    item = CatalogItem.objects.get(slug=slug)
    assert item.icon.lstrip().startswith("<svg")
    assert registry.has_image(slug=item.slug, version=item.version)
    token = secrets.token_urlsafe(16)
    container = start_node(docker_client, item, token=token)
    try:
        check = item.spec.head.healthcheck
        wait_healthy(container, seconds=check.start_period_s + check.interval_s * check.retries)
        container.reload()
        address = container.attrs["NetworkSettings"]["IPAddress"]

        services = {service.name: service for service in item.spec.head.services}
        if "jupyter" in services:
            port = services["jupyter"].port
            with urllib.request.urlopen(
                f"http://{address}:{port}/api/status?token={token}", timeout=10
            ) as answer:  # noqa: S310
                assert answer.status == 200
            with urllib.request.urlopen(f"http://{address}:{port}/lab?token={token}", timeout=10) as answer:  # noqa: S310
                assert b"JupyterLab" in answer.read()
        dockerfile = (images_root() / slug / "Dockerfile").read_text()
        if "pytorch" in layers_for(dockerfile=dockerfile) or NEEDS_WHEEL_RE.search(dockerfile):
            result = container.exec_run(
                ["python", "-c", "import torch; print(torch.__version__, torch.ones(2).sum().item())"]
            )
            assert result.exit_code == 0, result.output.decode()
            assert result.output.decode().split() == ["2.13.0+cpu", "2.0"]
        identity = container.exec_run(["id", "-u"]).output.decode().strip()
        assert identity == str(item.spec.user.uid)
    finally:
        container.remove(force=True)
