"""Drives sandboxes as the worker would, inside a test: create one of the cluster app, and run
an operation's steps until it ends."""

from provisioning.services.operations import operation_advance
from provisioning.services.sandboxes import sandbox_create


def run(operation, limit=20):
    """Advance the operation until it ends (the worker's retries, back to back); its final row."""
    for _ in range(limit):
        if operation_advance(operation_id=operation.pk).again_in is None:
            operation.refresh_from_db()
            return operation
    raise AssertionError("operation did not finish")


def create(member, tenant, **kwargs):
    """A sandbox of the cluster app (head and 2 workers, small) and its create operation."""
    args = {"name": "exp", "catalog_item": "cluster", "flavor": "small", "nodes": {"worker": 2}}
    sandbox = sandbox_create(owner=member, tenant=tenant, **{**args, **kwargs})
    return sandbox, sandbox.operations.get()
