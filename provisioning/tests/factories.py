"""factory_boy factories of provisioning, for every app's tests. Each makes one object, in the
database only: nothing runs on an engine (a sandbox to run is made with its service)."""

import factory

from provisioning.models import DataTap, Host, HostPathPrefix, Node, Sandbox
from tenants.tests.factories import TenantFactory, UserFactory
from tests.catalog.factories import CatalogItemFactory, FlavorFactory


class HostFactory(factory.django.DjangoModelFactory):
    """A host on an in-memory engine of the test doubles (fake://<name>)."""

    class Meta:
        model = Host
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"fake-{n + 1}")
    url = factory.LazyAttribute(lambda host: f"fake://{host.name}")
    cpus = 4
    memory_mib = 65536


class HostPathPrefixFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostPathPrefix
        django_get_or_create = ("path",)

    path = factory.Sequence(lambda n: f"/srv/shared-{n}")


class DataTapFactory(factory.django.DjangoModelFactory):
    """A hostpath DataTap; pass kind=DataTap.Kind.NFS with server and export for an NFS one."""

    class Meta:
        model = DataTap

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"tap-{n}")
    kind = DataTap.Kind.HOSTPATH
    path = factory.LazyAttribute(
        lambda tap: f"/srv/shared/{tap.name}" if tap.kind == DataTap.Kind.HOSTPATH else ""
    )


class SandboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sandbox

    tenant = factory.SubFactory(TenantFactory)
    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"box-{n}")
    catalog_item = factory.SubFactory(CatalogItemFactory)
    flavor = factory.SubFactory(FlavorFactory)


class NodeFactory(factory.django.DjangoModelFactory):
    """A node of its sandbox's flavor, on a host."""

    class Meta:
        model = Node

    sandbox = factory.SubFactory(SandboxFactory)
    role = "head"
    index = 0
    host = factory.SubFactory(HostFactory)
    cpus = factory.LazyAttribute(lambda node: node.sandbox.flavor.cpus)
    memory_mib = factory.LazyAttribute(lambda node: node.sandbox.flavor.memory_mib)
