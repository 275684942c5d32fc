"""The Endpoints pages: the list and the deploy form, an endpoint's page with its replicas, URL
and curl line, a key shown once, a rollout asked for, and another tenant's endpoint unseen."""

from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Flavor
from provisioning.tests.conftest import fake_host, member, tenant  # noqa: F401 - fixtures
from serving.models import Endpoint, EndpointKey, Replica
from serving.states import EndpointStatus, ReplicaStatus
from tenants.models import Membership, Tenant, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(member):  # noqa: F811
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def serve_flavor(db):
    return Flavor.objects.create(name="serve", cpus=Decimal("1"), memory_mib=1024, gpus=0, disk_gib=1)


def deploy(browser, **overrides):
    form = {
        "tenant": "acme",
        "name": "line",
        "model_name": "line",
        "model_version": "1",
        "min_replicas": 1,
        "max_replicas": 2,
        "flavor": "serve",
        **overrides,
    }
    return browser.post("/endpoints/", form)


def test_deploy_then_see_it_call_it_and_roll_it(browser, fake_host, serve_flavor, settings):  # noqa: F811
    settings.GATEWAY_URL = "http://gateway.example:8002"
    answer = deploy(browser)
    endpoint = Endpoint.objects.get(name="line")
    assert answer.status_code == 302 and answer["Location"] == f"/endpoints/{endpoint.pk}/"
    Replica.objects.filter(endpoint=endpoint).update(status=ReplicaStatus.READY)
    Endpoint.objects.filter(pk=endpoint.pk).update(status=EndpointStatus.READY)

    listing = browser.get("/endpoints/").content.decode()
    assert "line" in listing and "ready" in listing
    page = browser.get(f"/endpoints/{endpoint.pk}/").content.decode()
    assert "http://gateway.example:8002/endpoints/acme/line/v2/models/line/infer" in page
    # No replica answers here with the model's inputs: one generic feature is offered.
    assert "&quot;name&quot;: &quot;x&quot;, &quot;shape&quot;: [1, 1]" in page
    assert "fake-1" in page and 'id="endpoint-replicas"' in page
    assert "every 3s" in browser.get(f"/endpoints/{endpoint.pk}/status/").content.decode()

    made = browser.post(f"/endpoints/{endpoint.pk}/keys/", {"name": "shop"}).content.decode()
    key = EndpointKey.objects.get(endpoint=endpoint)
    assert f"{key.prefix}." in made and 'id="new-endpoint-key"' in made
    again = browser.get(f"/endpoints/{endpoint.pk}/").content.decode()
    assert key.prefix in again and 'id="new-endpoint-key"' not in again

    assert browser.post(f"/endpoints/{endpoint.pk}/version/", {"model_version": "2"}).status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.model_version, endpoint.status) == ("2", EndpointStatus.UPDATING)


def test_bad_input_shows_next_to_the_field(browser, fake_host, serve_flavor):  # noqa: F811
    answer = deploy(browser, min_replicas=3, max_replicas=2)
    assert answer.status_code == 200 and "min &lt;= max" in answer.content.decode()
    assert not Endpoint.objects.exists()


def test_another_tenants_endpoint_is_not_found(browser, member, fake_host, serve_flavor):  # noqa: F811
    deploy(browser)
    endpoint = Endpoint.objects.get()
    other = Tenant.objects.create(slug="other", name="Other")
    mallory = User.objects.create_user(username="mallory", password="unused")
    Membership.objects.create(user=mallory, tenant=other)
    outsider = Client()
    outsider.force_login(mallory)
    assert outsider.get(f"/endpoints/{endpoint.pk}/").status_code == 404
    assert outsider.post(f"/endpoints/{endpoint.pk}/keys/", {"name": "x"}).status_code == 404
    assert outsider.post(f"/endpoints/{endpoint.pk}/delete/").status_code == 404
    assert f"/endpoints/{endpoint.pk}/" not in outsider.get("/endpoints/").content.decode()


def test_models_page_without_tracking_says_how_to_get_it(browser, tenant):  # noqa: F811
    page = browser.get("/models/").content.decode()
    assert "No tenant of yours has experiment tracking on" in page


def test_deploy_button_fills_the_endpoint_form(browser, fake_host, serve_flavor):  # noqa: F811
    page = browser.get("/endpoints/?tenant=acme&name=churn&model_name=churn&model_version=4").content.decode()
    assert 'value="churn"' in page and 'value="4"' in page
