"""Old versions of a catalog image leave the registry and the engine once no sandbox uses them,
on the real registry and engine: publish v1, a sandbox on v1 (stopped: its container still
holds the image), publish v2: v1 stays; delete the sandbox, prune: v1 is gone from both, v2
stays."""

import shutil
import uuid

import docker
import pytest
import yaml
from django.conf import settings

from catalog.imagebuilder import ImageBuilder
from catalog.manifest import manifest_validate
from catalog.models import Flavor
from catalog.registry import RegistryClient
from catalog.services.build_context import images_root
from catalog.services.catalog_items import catalog_item_sync_manifest
from catalog.services.images import image_publish
from provisioning.services.image_prune import images_prune
from tests.catalog.conftest import image_remove
from tests.provisioning.conftest import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def versions(tmp_path, docker_client, seeded_flavors):
    """publish(version): python-minimal's folder under a slug of this test, each version with
    a file of its own (so each is a build of its own), pushed and synced into the catalog."""
    slug = f"pytest-prune-{uuid.uuid4().hex[:8]}"
    source = tmp_path / slug
    shutil.copytree(images_root() / "python-minimal", source)
    data = yaml.safe_load((source / "manifest.yaml").read_text())
    builder = ImageBuilder.for_url(settings.DOCKER_DEFAULT_URL)
    registry = RegistryClient(address=settings.IMAGE_REGISTRY)
    published = []

    def publish(version: str) -> str:
        (source / "version.txt").write_text(version)
        image_publish(source=source, slug=slug, version=version, builder=builder, registry=registry)
        published.append(version)
        manifest = manifest_validate(
            {**data, "slug": slug, "version": version},
            flavors=set(Flavor.objects.values_list("name", flat=True)),
        )
        catalog_item_sync_manifest(manifest=manifest, icon="")
        return f"{registry.address}/{slug}:{version}"

    yield slug, publish, registry
    for version in published:
        image_remove(docker_client, slug=slug, version=version)


def on_engine(docker_client, ref: str) -> bool:
    try:
        docker_client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def test_an_old_version_goes_once_no_sandbox_uses_it(
    team, versions, celery_worker_process, docker_client, local_host
):
    _tenant, _user, client = team
    slug, publish, registry = versions
    v1 = publish("1")
    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": "on-v1", "catalog_item": slug, "flavor": "small"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    sandbox_id = created.json()["id"]
    wait_for_status(client, sandbox_id, {"running"})
    assert client.post(f"/api/v1/sandboxes/{sandbox_id}/stop/").status_code == 202
    wait_for_status(client, sandbox_id, {"stopped"})

    v2 = publish("2")
    kept = images_prune(slugs=[slug])

    assert registry.tags(slug=slug) == ["1", "2"]
    assert on_engine(docker_client, v1) and on_engine(docker_client, v2)
    assert v1 in kept.in_use and not kept.registry_deleted and not kept.engine_removed

    assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
    wait_for_status(client, sandbox_id, {"deleted"})
    pruned = images_prune(slugs=[slug])

    assert pruned.registry_deleted == [v1]
    assert pruned.engine_removed == {local_host.name: [v1]}
    assert registry.tags(slug=slug) == ["2"]
    assert not registry.has_image(slug=slug, version="1") and registry.has_image(slug=slug, version="2")
    assert not on_engine(docker_client, v1) and on_engine(docker_client, v2)
    # Nothing is left to do: a second pass changes nothing.
    again = images_prune(slugs=[slug])
    assert not again.registry_deleted and not again.engine_removed
