"""An endpoint deployed before the model server's image is built (a site's first run builds it
in the background, catalog.services.platform_images): its converge waits, and the endpoint and
its replica say why; with no build under way the deploy fails, saying how to build the image.
A fake engine refuses the start as an engine without the image does; the registry and the
build lock are real."""

from decimal import Decimal

import pytest

from catalog.models import Flavor
from common.async_work import Outcome
from provisioning.tests.conftest import failing_engine, fake_host, member, tenant  # noqa: F401 - fixtures
from serving import image_build
from serving.image_build import model_server_platform_image
from serving.services.converge import endpoint_converge
from serving.services.endpoints import endpoint_create
from serving.states import EndpointStatus, ReplicaStatus
from tests.catalog.conftest import another_worker_builds

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_folder(tmp_path, settings):
    """Version 1 of tenant acme's model "line" in a folder store (no tracking server here)."""
    folder = tmp_path / "acme" / "line" / "1"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    settings.SERVING_MODEL_DIR = str(tmp_path)


def test_a_deploy_waits_for_the_image_being_built_then_fails_plainly_when_nobody_builds_it(
    member,  # noqa: F811
    tenant,  # noqa: F811
    failing_engine,  # noqa: F811
    model_folder,
    monkeypatch,
):
    monkeypatch.setattr(image_build, "IMAGE_VERSION", "pytest-being-built")
    image = model_server_platform_image()
    Flavor.objects.create(name="serve", cpus=Decimal("1"), memory_mib=1024, gpus=0, disk_gib=1)
    endpoint = endpoint_create(
        owner=member,
        tenant=tenant,
        name="line",
        model_name="line",
        model_version="1",
        min_replicas=1,
        max_replicas=1,
        flavor="serve",
    )

    with another_worker_builds(image):
        assert endpoint_converge(endpoint_id=endpoint.pk).again_in is not None
    endpoint.refresh_from_db()
    [replica] = endpoint.replicas.all()
    waiting = f"Waiting for the model server's image ({image.reference}), which is being built"
    assert endpoint.status == EndpointStatus.DEPLOYING and endpoint.explanation.startswith(waiting)
    # The replica waits with its quota held, to start as soon as the image is there.
    assert replica.status == ReplicaStatus.PENDING and replica.explanation.startswith(waiting)

    assert endpoint_converge(endpoint_id=endpoint.pk) == Outcome()
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ERROR
    assert (
        f"({image.reference}) is not in the registry, and no build of it is running" in endpoint.explanation
    )
    assert "manage.py serving_image_build" in endpoint.explanation
    assert not endpoint.replicas.exclude(status=ReplicaStatus.DELETED).exists()
