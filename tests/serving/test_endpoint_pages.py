"""The Endpoints pages: the list and the deploy form, an endpoint's page with its replicas, URL
and curl line, a key shown once, a rollout asked for, its drift signal, and another tenant's
endpoint unseen."""

from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Flavor
from provisioning.tests.conftest import fake_host, member, tenant  # noqa: F401 - fixtures
from serving.models import Endpoint, EndpointInputStats, EndpointKey, Replica
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


def test_drift_shows_on_the_page_and_in_the_api(browser, fake_host, serve_flavor):  # noqa: F811
    deploy(browser)
    endpoint = Endpoint.objects.get()
    assert browser.get(f"/api/v1/endpoints/{endpoint.pk}/").json()["drift"]["verdict"] == "no_requests"
    assert "No requests yet" in browser.get(f"/endpoints/{endpoint.pk}/").content.decode()

    EndpointInputStats.objects.create(
        endpoint=endpoint,
        window={
            "age": {"rows": 120, "mean": 61.25, "std": 4.0, "min": 50.0, "max": 70.0},
            "income": {"rows": 120, "mean": 41000.0, "std": 9000.0, "min": 20000.0, "max": 90000.0},
        },
        training={
            "age": {"count": 5000.0, "mean": 38.5, "std": 11.0, "min": 18.0, "max": 90.0},
            "income": {"count": 5000.0, "mean": 40000.0, "std": 10000.0, "min": 0.0, "max": 250000.0},
        },
        training_version="1",
    )
    drift = browser.get(f"/api/v1/endpoints/{endpoint.pk}/").json()["drift"]
    assert (drift["verdict"], drift["rows"], drift["drifted_features"], drift["threshold"]) == (
        "drifted",
        120,
        1,
        0.5,
    )
    assert drift["summary"].startswith("1 of 2 features drifted: age mean 61.2 vs 38.5 in training")
    age, income = drift["features"]
    assert age == {
        "name": "age",
        "training": {"count": 5000.0, "mean": 38.5, "std": 11.0, "min": 18.0, "max": 90.0},
        "recent": {"rows": 120, "mean": 61.25, "std": 4.0, "min": 50.0, "max": 70.0},
        "score": pytest.approx(2.068, abs=1e-3),
        "drifted": True,
    }
    assert (income["name"], income["score"], income["drifted"]) == ("income", 0.1, False)

    page = browser.get(f"/endpoints/{endpoint.pk}/").content.decode()
    assert 'id="endpoint-drift"' in page and "1 of 2 features drifted" in page
    assert "the last 120 rows" in page and "training data of version 1" in page
    assert '<tr class="table-warning">\n        <th scope="row">age</th>' in page
    metrics = Client().get("/metrics").content.decode()
    assert 'portal_endpoint_drift_features{endpoint="line",tenant="acme"} 1.0' in metrics
    for cell in ("<td>38.5</td>", "<td>61.25</td>", "<td>2.068</td>", "<td>41000</td>", "<td>0.1</td>"):
        assert cell in page, page[page.index("drift-features") :][:2500]
