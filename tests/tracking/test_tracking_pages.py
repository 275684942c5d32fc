"""The tenant page's experiment tracking section: admins switch it, members see it, and the
switch does what the API does. No worker runs here."""

import pytest
from django.test import Client

from tenants.models import Tenant
from tracking.models import TrackingServer
from tracking.states import TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_switches_tracking_on_and_off_on_the_tenant_page(people):
    lab, _other, users = people
    admin = logged_in(users["alice"])
    page = admin.get("/tenants/lab/").content.decode()
    assert "Experiment tracking" in page and 'name="tracking"' in page

    answer = admin.post("/tenants/lab/tracking/", {"tracking": "on"}, follow=True)
    assert "Experiment tracking is starting." in answer.content.decode()
    assert Tenant.objects.get(pk=lab.pk).tracking
    assert TrackingServer.objects.get(tenant=lab).status == TrackingStatus.STARTING

    # An unticked box is not sent: off.
    admin.post("/tenants/lab/tracking/", {})
    assert not Tenant.objects.get(pk=lab.pk).tracking
    assert TrackingServer.objects.get(tenant=lab).status == TrackingStatus.STOPPING


def test_members_see_it_without_the_switch_and_cannot_post_it(people):
    lab, _other, users = people
    member = logged_in(users["grace"])
    page = member.get("/tenants/lab/").content.decode()
    assert "Experiment tracking" in page and 'name="tracking"' not in page
    assert member.post("/tenants/lab/tracking/", {"tracking": "on"}).status_code in (403, 404)
    assert logged_in(users["mallory"]).post("/tenants/lab/tracking/", {"tracking": "on"}).status_code == 404
    assert not Tenant.objects.get(pk=lab.pk).tracking


def test_a_ready_server_offers_the_mlflow_ui_through_the_gateway(people, settings):
    lab, _other, users = people
    settings.GATEWAY_URL = "http://gateway.example:8002"
    logged_in(users["alice"]).post("/tenants/lab/tracking/", {"tracking": "on"})
    TrackingServer.objects.filter(tenant=lab).update(status=TrackingStatus.READY, ip="172.30.0.2")
    page = logged_in(users["grace"]).get("/tenants/lab/").content.decode()
    assert 'href="http://gateway.example:8002/gateway/tracking/lab/"' in page
