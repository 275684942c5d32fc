from tenants.models import Tenant
from tracking.models import TrackingServer
from tracking.states import TRACKING_TRANSITIONS, TrackingStatus


def tracking_server_ready_for(*, tenant: Tenant) -> TrackingServer | None:
    """The tenant's tracking server when it is enabled and answers; None otherwise."""
    return (
        TrackingServer.objects.select_related("tenant", "host")
        .filter(tenant=tenant, tenant__tracking=True, status=TrackingStatus.READY)
        .first()
    )


def tracking_server_for(*, tenant: Tenant) -> TrackingServer | None:
    """The tenant's tracking server in whatever state, or None when it never had one (or its
    data was purged)."""
    return TrackingServer.objects.select_related("tenant", "host").filter(tenant=tenant).first()


def tracking_server_purgeable(*, server: TrackingServer | None) -> bool:
    """Whether its data may be deleted now: switched off, and off."""
    return (
        server is not None
        and not server.tenant.tracking
        and server.status in TRACKING_TRANSITIONS["purge"].allowed_from
    )


def tracking_server_failed(*, server: TrackingServer | None) -> bool:
    """Whether its last start failed: its explanation then says why, and otherwise what a start
    waits for (its image being built)."""
    return server is not None and server.status == TRACKING_TRANSITIONS["enable"].fails
