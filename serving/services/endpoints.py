"""Endpoint requests: validate, reserve quota and host room for the replicas, record the wanted
state and hand it to a worker once the transaction commits. Nothing here talks to an engine or
to the gateway: serving.services.converge does, from what these write."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Flavor
from common.async_work import enqueue_after_commit
from common.errors import Conflict, Invalid
from provisioning.placement import NodeRequest, PlacementError, place
from provisioning.quota_charges import node_resources
from provisioning.services.capacity import hosts_snapshot
from serving.model_source import model_source_host
from serving.models import Endpoint, EndpointTraffic, Replica
from serving.states import (
    ENDPOINT_BUSY,
    ENDPOINT_TRANSITIONS,
    REPLICA_LIVE,
    EndpointAction,
    EndpointStatus,
    ReplicaStatus,
    endpoint_action_allowed,
)
from tenants.models import SLUG_VALIDATOR, Tenant, User
from tenants.resources import AllocationRequest
from tenants.services.audit import audit_record
from tenants.services.quota import quota_release, quota_reserve

#: More replicas than this per endpoint is a mistake, not a need, on the hosts this portal runs.
MAX_REPLICAS = 20


class EndpointConflict(Conflict):
    code = "endpoint_conflict"


class NoRoomForReplica(Conflict):
    code = "no_capacity"


def endpoint_create(
    *,
    owner: User,
    tenant: Tenant,
    name: str,
    model_name: str,
    model_version: str,
    min_replicas: int = 1,
    max_replicas: int = 1,
    flavor: str,
    ip: str | None = None,
) -> Endpoint:
    """Accept an endpoint: its first replicas (min, at least one so that it answers at once)
    are placed and their quota held now; a worker starts them."""
    flavor_obj = _validate(
        name=name,
        model_name=model_name,
        model_version=model_version,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        flavor=flavor,
    )
    try:
        with transaction.atomic():
            endpoint = Endpoint.objects.create(
                tenant=tenant,
                owner=owner,
                name=name,
                model_name=model_name,
                model_version=str(model_version),
                flavor=flavor_obj,
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                desired_replicas=max(min_replicas, 1),
            )
            EndpointTraffic.objects.create(endpoint=endpoint)
            for _ in range(endpoint.desired_replicas):
                replica_add(endpoint=endpoint)
            audit_record(
                actor=owner,
                action="endpoint.create",
                tenant=tenant,
                target=endpoint,
                ip=ip,
                detail={"model": model_name, "version": str(model_version)},
            )
            endpoint_converge_soon(endpoint=endpoint)
    except IntegrityError as exc:
        if "unique_live_endpoint_name_per_tenant" in str(exc):
            raise Invalid(
                fields={"name": [f"An endpoint named {name!r} already exists in this tenant."]}
            ) from exc
        raise
    return endpoint


def endpoint_update(
    *,
    endpoint: Endpoint,
    actor: User,
    model_version: str | None = None,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    ip: str | None = None,
) -> Endpoint:
    """Roll to another model version (replica by replica; rolled back if it fails its readiness
    check) and/or change the replica bounds. Refused while a deploy or rollout is under way."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().select_related("tenant", "flavor").get(pk=endpoint.pk)
        if not endpoint_action_allowed(status=endpoint.status, action=EndpointAction.UPDATE):
            if endpoint.status in ENDPOINT_BUSY:
                raise EndpointConflict(
                    f"Endpoint {endpoint.name!r} is {endpoint.status}: wait for it to be ready, then retry.",
                    retry_after=5,
                )
            raise EndpointConflict(f"Endpoint {endpoint.name!r} is {endpoint.status}.")
        low = endpoint.min_replicas if min_replicas is None else min_replicas
        high = endpoint.max_replicas if max_replicas is None else max_replicas
        version = endpoint.model_version if model_version is None else str(model_version)
        _validate_bounds(low, high)
        if not version.strip():
            raise Invalid(fields={"model": ["Name a model version."]})
        changes = {}
        if version != endpoint.model_version:
            changes["model_version"] = [endpoint.model_version, version]
        if (low, high) != (endpoint.min_replicas, endpoint.max_replicas):
            changes["replicas"] = [[endpoint.min_replicas, endpoint.max_replicas], [low, high]]
        if not changes:
            raise Invalid(
                fields={
                    "model": ["Nothing to change: the endpoint already has this version and these bounds."]
                }
            )
        endpoint.model_version = version
        endpoint.min_replicas, endpoint.max_replicas = low, high
        endpoint.desired_replicas = min(max(endpoint.desired_replicas, low, 1 if low else 0), high)
        endpoint.status = ENDPOINT_TRANSITIONS[EndpointAction.UPDATE].through
        endpoint.explanation = ""
        endpoint.save()
        audit_record(
            actor=actor,
            action="endpoint.update",
            tenant=endpoint.tenant,
            target=endpoint,
            ip=ip,
            detail=changes,
        )
        endpoint_converge_soon(endpoint=endpoint)
    return endpoint


def endpoint_delete(*, endpoint: Endpoint, actor: User, ip: str | None = None) -> Endpoint:
    """Gone for its callers at once (its keys are revoked, the gateway's route goes with the
    worker's next step); the worker removes its containers and network and releases its quota."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().select_related("tenant").get(pk=endpoint.pk)
        if endpoint.status == EndpointStatus.DELETED:
            return endpoint
        now = timezone.now()
        endpoint.keys.filter(revoked__isnull=True).update(revoked=now)
        endpoint.replicas.filter(status__in=REPLICA_LIVE).update(status=ReplicaStatus.DRAINING)
        endpoint.status = ENDPOINT_TRANSITIONS[EndpointAction.DELETE].through
        endpoint.save(update_fields=["status", "updated"])
        audit_record(actor=actor, action="endpoint.delete", tenant=endpoint.tenant, target=endpoint, ip=ip)
        endpoint_converge_soon(endpoint=endpoint)
    return endpoint


def endpoint_scale(*, endpoint: Endpoint, replicas: int) -> bool:
    """The scaler's decision (within the bounds): says whether it changed anything."""
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        wanted = min(max(replicas, locked.min_replicas), locked.max_replicas)
        if locked.status != EndpointStatus.READY or wanted == locked.desired_replicas:
            return False
        locked.desired_replicas = wanted
        locked.save(update_fields=["desired_replicas", "updated"])
        endpoint_converge_soon(endpoint=locked)
    return True


def replica_add(*, endpoint: Endpoint, version: str | None = None) -> Replica:
    """Place one more replica (preferring a host that has none of this endpoint, so that a host
    going away takes only part of it) and hold its quota. Call inside a transaction; raises
    QuotaExceeded or NoRoomForReplica, which roll it back."""
    flavor = endpoint.flavor
    request = NodeRequest(key="replica", cpus=Decimal(flavor.cpus), memory_mib=flavor.memory_mib)
    hosts = hosts_snapshot(lock=True)
    # Replicas fetch their model from the tenant's tracking server: they run where it runs.
    if (only := model_source_host(endpoint=endpoint)) is not None:
        hosts = [h for h in hosts if h.id == only]
    taken = set(endpoint.replicas.filter(status__in=REPLICA_LIVE).values_list("host_id", flat=True))
    overcommit = Decimal(settings.CPU_OVERCOMMIT)
    try:
        try:
            placement = place(
                nodes=[request], hosts=[h for h in hosts if h.id not in taken], overcommit=overcommit
            )
        except PlacementError:
            placement = place(nodes=[request], hosts=hosts, overcommit=overcommit)
    except PlacementError as exc:
        raise NoRoomForReplica(str(exc).replace("this sandbox", "this replica")) from exc
    replica = Replica.objects.create(
        endpoint=endpoint,
        host_id=placement.host_id,
        model_version=version or endpoint.model_version,
        cpus=flavor.cpus,
        memory_mib=flavor.memory_mib,
    )
    quota_reserve(
        tenant=endpoint.tenant,
        owner=endpoint.owner,
        group=endpoint.ledger_group,
        requests=[
            AllocationRequest(
                subject=replica.ledger_subject,
                resources=node_resources(cpus=replica.cpus, memory_mib=replica.memory_mib, gpus=0),
                attributes={"endpoint": endpoint.pk, "replica": replica.pk},
            )
        ],
    )
    return replica


def replica_forget(*, replica: Replica) -> None:
    """Its container is gone: the row is kept as deleted and its quota released."""
    Replica.objects.filter(pk=replica.pk).update(status=ReplicaStatus.DELETED)
    quota_release(group=replica.endpoint.ledger_group, subjects=[replica.ledger_subject])


def endpoint_converge_soon(*, endpoint: Endpoint) -> None:
    from serving.tasks import endpoint_converge_task

    enqueue_after_commit(endpoint_converge_task, endpoint.pk, what="endpoint")


def _validate(*, name, model_name, model_version, min_replicas, max_replicas, flavor) -> Flavor:
    errors: dict[str, list[str]] = {}
    try:
        SLUG_VALIDATOR(name)
    except Exception:  # noqa: BLE001 - the validator's own message is for a form
        errors["name"] = ["Use lowercase letters, digits and hyphens, starting with a letter."]
    if not str(model_name).strip():
        errors["model"] = ["Name the registered model."]
    elif not str(model_version).strip():
        errors["model"] = ["Name the model version."]
    try:
        _validate_bounds(min_replicas, max_replicas)
    except Invalid as exc:
        errors.update(exc.fields)
    flavor_obj = Flavor.objects.filter(name=flavor).first()
    if flavor_obj is None:
        errors["flavor"] = [f"No flavor {flavor!r}."]
    elif flavor_obj.gpus:
        errors["flavor"] = [f"Flavor {flavor!r} has GPUs; the model server runs on CPUs."]
    if errors:
        raise Invalid(fields=errors)
    return flavor_obj


def _validate_bounds(low, high) -> None:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        raise Invalid(fields={"replicas": ["min and max are whole numbers."]})
    if not 0 <= low <= high or not 1 <= high <= MAX_REPLICAS:
        raise Invalid(fields={"replicas": [f"Need 0 <= min <= max, and max between 1 and {MAX_REPLICAS}."]})
