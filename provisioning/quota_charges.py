"""What a sandbox holds against its tenant's quota, defined once: sandbox_create reserves exactly
this, and the launch form's live check adds it up before the launch is made."""

from catalog.models import Flavor
from tenants.resources import Resources


def slot_resources(*, flavor: Flavor) -> Resources:
    """The sandbox's slot and its workspace storage: held until the sandbox is deleted."""
    return Resources(sandboxes=1, storage_gib=flavor.disk_gib)


def node_resources(*, cpus, memory_mib: int, gpus: int) -> Resources:
    """A node's cpus, memory and GPUs: held while its container may run."""
    return Resources(cpus=cpus, memory_mib=memory_mib, gpus=gpus)


def launch_resources(*, flavor: Flavor, node_count: int, gpus_per_node: int) -> Resources:
    total = slot_resources(flavor=flavor)
    for _ in range(node_count):
        total = total + node_resources(cpus=flavor.cpus, memory_mib=flavor.memory_mib, gpus=gpus_per_node)
    return total
