"""What the prune of old image versions keeps, on the in-memory engines: what containers use,
the current version, and every registry tag of an item it cannot see all the nodes of. (The
registry and the real engine: tests/provisioning/test_image_prune_docker.py.)"""

import pytest

from provisioning.drivers import NodeSpec
from provisioning.services.image_prune import images_prune
from provisioning.states import NodeStatus, SandboxStatus
from provisioning.tests.doubles import fake_engine
from provisioning.tests.factories import HostFactory, NodeFactory, SandboxFactory
from tests.catalog.factories import CatalogItemFactory

SLUG = "pytest-prune-fake"  # no such repository in the registry: only the engines have tags


def container_of(image: str) -> dict:
    spec = NodeSpec(
        name="stopped-node",
        hostname="head-0",
        image=image,
        network="net",
        user="1000:1000",
        labels={},
        environment={},
        nano_cpus=10**9,
        memory_bytes=2**30,
    )
    return {"spec": spec, "running": False}


@pytest.fixture
def item(db):
    return CatalogItemFactory(slug=SLUG, version="3")


@pytest.fixture
def repository(settings):
    return f"{settings.IMAGE_REGISTRY}/{SLUG}"


def test_engines_keep_the_current_version_a_newer_one_and_what_a_container_uses(item, repository):
    host = HostFactory(name="answering")
    engine = fake_engine(host.url)
    # 10 is newer than 3 (versions compare number by number): pushed ahead of the catalog.
    engine.images |= {f"{repository}:{tag}" for tag in ("1", "2", "3", "10")} | {"elsewhere/other:1"}
    engine.containers["stopped-node"] = container_of(f"{repository}:2")

    report = images_prune(slugs=[SLUG])

    assert report.engine_removed == {"answering": [f"{repository}:1"]}
    assert report.in_use == [f"{repository}:2"]
    assert engine.images == {f"{repository}:2", f"{repository}:3", f"{repository}:10", "elsewhere/other:1"}
    assert report.held == {}


def test_a_silent_host_with_nodes_of_the_item_holds_its_registry_tags(item, repository):
    answering, silent = HostFactory(name="answering"), HostFactory(name="silent")
    fake_engine(answering.url).images |= {f"{repository}:1", f"{repository}:3"}
    fake_engine(silent.url).reachable = False
    sandbox = SandboxFactory(catalog_item=item, status=SandboxStatus.STOPPED)
    NodeFactory(sandbox=sandbox, host=silent, status=NodeStatus.STOPPED)

    report = images_prune(slugs=[SLUG])

    assert report.held == {SLUG: "a host with nodes of its sandboxes did not answer"}
    # The answering engine needs no version the silent one runs: it can pull it again.
    assert report.engine_removed == {"answering": [f"{repository}:1"]}


def test_a_sandbox_being_created_holds_its_item_and_a_queued_one_does_not(item):
    SandboxFactory(catalog_item=item, status=SandboxStatus.QUEUED)
    assert images_prune(slugs=[SLUG]).held == {}

    SandboxFactory(catalog_item=item, status=SandboxStatus.PROVISIONING)
    assert images_prune(slugs=[SLUG]).held == {
        SLUG: "one of its sandboxes is being created, started or resized"
    }
