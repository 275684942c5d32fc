"""Fixtures of the provisioning unit tests: fake engines behind the real driver interface."""

from decimal import Decimal

import pytest

from catalog.models import CatalogItem, Flavor
from provisioning.tests.doubles import (
    FailingEngine,
    NeverReadyEngine,
    SlowEngine,
    fake_engine,
    fake_engine_install,
)
from provisioning.tests.factories import HostFactory
from provisioning.tests.lifecycle import create, run
from tenants.models import Membership
from tenants.tests.factories import MembershipFactory, TenantFactory, UserFactory

HEALTHCHECK = {"test": ["CMD", "true"], "interval_s": 1, "timeout_s": 2, "retries": 3, "start_period_s": 5}


def cluster_manifest(slug="cluster", worker_max=4) -> dict:
    role = {"services": [], "healthcheck": HEALTHCHECK}
    return {
        "slug": slug,
        "user": {"name": "scientist", "uid": 1000, "gid": 1000},
        "workspace": "/workspace",
        "capabilities": [],
        "environment": {},
        "roles": {
            "head": {"min_nodes": 1, "max_nodes": 1, "default_nodes": 1, **role},
            "worker": {"min_nodes": 0, "max_nodes": worker_max, "default_nodes": 2, **role},
        },
    }


@pytest.fixture
def tenant(db):
    return TenantFactory(
        slug="acme",
        name="Acme",
        quota_cpus=Decimal("8"),
        quota_memory_mib=16384,
        quota_gpus=2,
        quota_storage_gib=100,
        quota_sandboxes=5,
    )


@pytest.fixture
def member(tenant):
    user = UserFactory(username="ada")
    MembershipFactory(user=user, tenant=tenant, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def small(db):
    return Flavor.objects.get_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 2048, "gpus": 0, "disk_gib": 10}
    )[0]


@pytest.fixture
def cluster_item(db, small):
    return CatalogItem.objects.create(
        slug="cluster",
        name="Cluster",
        version="1",
        category="training",
        gpu_capable=True,
        default_flavor=small,
        manifest=cluster_manifest(),
    )


@pytest.fixture
def fake_host(db):
    return HostFactory(name="fake-1")


@pytest.fixture
def engine(fake_host):
    return fake_engine(fake_host.url)


@pytest.fixture
def failing_engine(fake_host):
    """The fake host's engine refuses every container start."""
    return fake_engine_install(fake_host.url, FailingEngine(name=fake_host.name))


@pytest.fixture
def slow_engine(fake_host):
    """The fake host's containers take a few looks to pass their healthcheck."""
    return fake_engine_install(fake_host.url, SlowEngine(name=fake_host.name))


@pytest.fixture
def never_ready_engine(fake_host):
    """The fake host's containers never pass their healthcheck."""
    return fake_engine_install(fake_host.url, NeverReadyEngine(name=fake_host.name))


@pytest.fixture
def cluster(member, tenant, cluster_item, engine):
    """A running sandbox of the cluster app: head and 2 workers."""
    sandbox, operation = create(member, tenant)
    run(operation)
    sandbox.refresh_from_db()
    return sandbox
