"""A host's URL scheme picks its driver; a scheme nobody registered is an engine that does not
answer, so the host is marked unreachable instead of crashing whoever asked."""

import pytest

from provisioning.drivers import HostUnreachable, driver_for_host, register_driver
from provisioning.drivers.docker import DockerDriver
from provisioning.tests.doubles import FakeEngine, fake_engine
from provisioning.tests.factories import HostFactory


def test_registered_schemes_get_their_driver(db):
    assert isinstance(driver_for_host(HostFactory(name="fake-1")), FakeEngine)
    assert driver_for_host(HostFactory(name="fake-1")) is fake_engine("fake://fake-1")


def test_docker_engines_get_the_docker_driver(local_host):
    assert isinstance(driver_for_host(local_host), DockerDriver)


def test_an_unknown_scheme_is_an_unreachable_host(db):
    host = HostFactory(name="odd", url="ssh://root@engine")
    with pytest.raises(HostUnreachable, match="No container driver speaks to odd at ssh://root@engine"):
        driver_for_host(host)


def test_a_test_may_register_its_own_scheme(db, monkeypatch):
    from provisioning import drivers

    monkeypatch.setattr(drivers, "_FACTORIES", dict(drivers._FACTORIES))
    engine = FakeEngine(name="mine")
    register_driver("mine", lambda host, *, timeout: engine)
    assert driver_for_host(HostFactory(name="m", url="mine://m")) is engine
