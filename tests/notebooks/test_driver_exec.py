"""Commands run inside a container through the Docker driver: attached with output and exit
code, detached and followed by polling. The notebook gateway starts Jupyter this way; jobs will
run their commands this way too."""

import time

import pytest
from django.conf import settings

from catalog.models import CatalogItem
from provisioning.drivers import DriverError
from provisioning.drivers.docker import SITE_LABEL, DockerDriver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def container(published, docker_client):
    published("python-minimal")
    image = CatalogItem.objects.get(slug="python-minimal").image
    made = docker_client.containers.run(
        image,
        entrypoint=["sleep", "infinity"],
        name=f"{settings.SITE}-exec-test",
        labels={SITE_LABEL: settings.SITE},
        user="1000:1000",
        detach=True,
    )
    yield made
    made.remove(force=True)


def test_attached_exec_returns_output_and_exit_code(container, docker_client):
    driver = DockerDriver(docker_client, name="local", site=settings.SITE)

    ran = driver.exec_start(
        name=container.name,
        command=["/bin/sh", "-c", 'echo "$GREETING from $(id -u) in $(pwd)"; exit 3'],
        environment={"GREETING": "hello"},
        workdir="/tmp",
    )

    assert (ran.running, ran.exit_code, ran.output) == (False, 3, "hello from 1000 in /tmp\n")


def test_detached_exec_is_followed_by_polling(container, docker_client):
    driver = DockerDriver(docker_client, name="local", site=settings.SITE)

    started = driver.exec_start(name=container.name, command=["sleep", "2"], detach=True)
    assert started.running and started.exit_code is None

    deadline = time.monotonic() + 30
    while driver.exec_poll(exec_id=started.exec_id).running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert driver.exec_poll(exec_id=started.exec_id).exit_code == 0
    assert driver.exec_poll(exec_id="0" * 64).running is False  # unknown ids read as ended


def test_exec_in_a_stopped_container_is_a_clear_error(container, docker_client):
    driver = DockerDriver(docker_client, name="local", site=settings.SITE)
    container.stop(timeout=1)
    with pytest.raises(DriverError, match="is not running"):
        driver.exec_start(name=container.name, command=["true"])
    with pytest.raises(DriverError, match="does not exist"):
        driver.exec_start(name="no-such-container", command=["true"])
