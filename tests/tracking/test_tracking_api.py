"""The tracking switch in the tenant API: who may turn it on, what it reserves, what it refuses.
No worker runs here: these check what the request itself changes."""

import pytest

from tenants.models import AuditEvent, Tenant
from tenants.selectors.usage import tenant_usage
from tests.tracking.conftest import api
from tracking.models import TrackingServer
from tracking.states import TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tenant_admin_turns_tracking_on_and_the_storage_is_reserved(people, settings):
    lab, _other, users = people
    answer = api(users["alice"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["tracking"] is True
    assert answer.json()["usage"]["storage_gib"] == settings.TRACKING_STORAGE_GIB
    server = TrackingServer.objects.get(tenant=lab)
    assert server.status == TrackingStatus.STARTING
    assert AuditEvent.objects.filter(action="tenant.tracking", tenant=lab).count() == 1
    # Asking again changes nothing: no second reservation, no second event.
    again = api(users["alice"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json")
    assert again.status_code == 200
    assert tenant_usage(tenant=lab).storage_gib == settings.TRACKING_STORAGE_GIB
    assert AuditEvent.objects.filter(action="tenant.tracking", tenant=lab).count() == 1
    # Members read the switch in the tenant body.
    assert api(users["grace"]).get("/api/v1/tenants/lab/").json()["tracking"] is True


def test_members_and_other_tenants_cannot_switch_it(people):
    lab, _other, users = people
    assert (
        api(users["grace"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json").status_code
        == 403
    )
    assert (
        api(users["mallory"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json").status_code
        == 404
    )
    assert not Tenant.objects.get(pk=lab.pk).tracking
    assert not TrackingServer.objects.exists()


def test_over_the_storage_quota_is_a_409_and_changes_nothing(people, settings):
    lab, _other, users = people
    Tenant.objects.filter(pk=lab.pk).update(quota_storage_gib=settings.TRACKING_STORAGE_GIB - 1)
    answer = api(users["alice"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json")
    assert answer.status_code == 409
    assert answer.json()["dimension"] == "storage_gib"
    assert not Tenant.objects.get(pk=lab.pk).tracking
    assert not TrackingServer.objects.exists()
    assert tenant_usage(tenant=lab).storage_gib == 0


def test_not_a_boolean_is_a_400(people):
    _lab, _other, users = people
    answer = api(users["alice"]).patch("/api/v1/tenants/lab/", {"tracking": "maybe"}, format="json")
    assert answer.status_code == 400 and "tracking" in answer.json()


def test_data_cannot_be_deleted_while_tracking_is_on(people):
    _lab, _other, users = people
    api(users["alice"]).patch("/api/v1/tenants/lab/", {"tracking": True}, format="json")
    assert api(users["alice"]).delete("/api/v1/tenants/lab/tracking/").status_code == 409
    assert api(users["grace"]).delete("/api/v1/tenants/lab/tracking/").status_code == 403
    assert TrackingServer.objects.exists()
