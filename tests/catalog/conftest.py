import contextlib
import urllib.request
import uuid
from contextlib import contextmanager

import docker
import pytest
from django.conf import settings
from django.db import connections

from catalog.imagebuilder import ImageBuilder
from catalog.registry import MANIFEST_TYPES, RegistryClient
from catalog.services.platform_images import PlatformImage, platform_image_lock
from tenants.tests.factories import UserFactory

TINY_DOCKERFILE = "ARG BASE_IMAGE=portal/base:bookworm\nFROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\n"


@pytest.fixture
def site_admin(db):
    return UserFactory(username="site-admin", is_site_admin=True)


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def registry():
    return RegistryClient(address=settings.IMAGE_REGISTRY)


@pytest.fixture
def docker_client():
    client = docker.DockerClient(base_url=settings.DOCKER_DEFAULT_URL)
    yield client
    client.close()


@pytest.fixture
def builder(docker_client):
    return ImageBuilder(docker_client)


def registry_delete(*, slug: str, version: str) -> None:
    """Remove a tag from the registry (it runs with deletes enabled), as a test's clean-up."""
    base = f"http://{settings.IMAGE_REGISTRY}/v2/{slug}/manifests"
    head = urllib.request.Request(  # noqa: S310 - the local test registry
        f"{base}/{version}", method="HEAD", headers={"Accept": ", ".join(MANIFEST_TYPES)}
    )
    try:
        with urllib.request.urlopen(head) as response:  # noqa: S310 - the local test registry
            digest = response.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError:
        return
    delete = urllib.request.Request(f"{base}/{digest}", method="DELETE")  # noqa: S310
    urllib.request.urlopen(delete).close()  # noqa: S310 - the local test registry


@pytest.fixture
def tiny_image(tmp_path, docker_client):
    """A folder with a tiny Dockerfile and a unique file, so its first build really builds;
    its tag is removed from the registry and the engine afterwards."""
    source = tmp_path / "tiny"
    source.mkdir()
    (source / "Dockerfile").write_text(TINY_DOCKERFILE)
    (source / "hello.txt").write_text(f"hello {uuid.uuid4()}\n")
    slug, version = "pytest-tiny", uuid.uuid4().hex[:12]
    yield source, slug, version
    image_remove(docker_client, slug=slug, version=version)


def image_remove(docker_client, *, slug: str, version: str) -> None:
    """Remove what a test published, from the registry and from the engine."""
    registry_delete(slug=slug, version=version)
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(f"{settings.IMAGE_REGISTRY}/{slug}:{version}", force=True)


@contextmanager
def another_worker_builds(image: PlatformImage):
    """The image's build lock, held by another worker's session as a build holds it."""
    worker = connections.create_connection("default")
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(platform_image_lock(image)))
        yield
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(platform_image_lock(image)))
    finally:
        worker.close()
