"""Two workers removing the same network (an endpoint's delete and a clean-up, say): the one
that finds it gone between listing and looking inside has nothing left to do, and says so by
succeeding, not by failing its operation. Staged on the real engine: the network is removed
for real between the driver's listing and its inspect."""

import pytest
from django.conf import settings

from provisioning.drivers import driver_for_host
from provisioning.drivers.docker import SITE_LABEL
from tests.provisioning.conftest import docker_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_remove_network_that_another_worker_removed_meanwhile(docker_client, local_host):  # noqa: F811
    name = f"{settings.SITE}-race-net"
    docker_client.api.create_network(name, driver="bridge", labels={SITE_LABEL: settings.SITE})
    driver = driver_for_host(local_host)
    inspect = driver.api.inspect_network

    def inspect_after_the_other_worker(network_id, *args, **kwargs):
        docker_client.api.remove_network(network_id)  # the other worker wins the race
        return inspect(network_id, *args, **kwargs)

    driver.api.inspect_network = inspect_after_the_other_worker
    try:
        driver.remove_network(name=name)
    finally:
        driver.api.inspect_network = inspect
        for network in docker_client.api.networks(names=[name]):
            docker_client.api.remove_network(network["Id"])
    assert not docker_client.api.networks(names=[name])
