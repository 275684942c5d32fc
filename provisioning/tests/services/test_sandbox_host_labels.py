"""Host labels: asked for by the catalog item and by the user, honoured by placement."""

import pytest

from provisioning.errors import InvalidRequest, NoCapacity
from provisioning.models import Host, Sandbox
from provisioning.tests.factories import HostFactory
from provisioning.tests.lifecycle import create
from tenants.models import Allocation

pytestmark = pytest.mark.django_db


@pytest.fixture
def zones(fake_host):
    """Two fake engines: the default one in zone a, another in zone b."""
    Host.objects.filter(pk=fake_host.pk).update(labels={"zone": "a"})
    return HostFactory(name="other", cpus=16, memory_mib=65536, labels={"zone": "b"})


def test_the_user_s_labels_pick_the_host(member, tenant, cluster_item, zones):
    sandbox, _operation = create(member, tenant, host_labels={"zone": "b"})
    assert {n.host_id for n in sandbox.nodes.all()} == {zones.pk}
    assert sandbox.host_labels == {"zone": "b"}


def test_the_catalog_item_s_labels_apply_and_the_user_cannot_contradict_them(
    member, tenant, cluster_item, zones
):
    cluster_item.manifest["host_labels"] = {"zone": "a"}
    cluster_item.save()
    sandbox, _operation = create(member, tenant)
    assert {n.host.labels["zone"] for n in sandbox.nodes.all()} == {"a"}

    with pytest.raises(InvalidRequest) as refused:
        create(member, tenant, name="other", host_labels={"zone": "b"})
    assert "runs only on hosts with zone=a" in refused.value.fields["host_labels"][0]


def test_labels_no_host_has_or_bad_labels_change_nothing(member, tenant, cluster_item, zones):
    with pytest.raises(NoCapacity, match="zone=c"):
        create(member, tenant, host_labels={"zone": "c"})
    with pytest.raises(InvalidRequest) as refused:
        create(member, tenant, host_labels={"Zone!": "x"})
    assert "host_labels" in refused.value.fields
    assert not Sandbox.objects.exists() and not Allocation.objects.exists()
