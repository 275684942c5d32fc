"""The scaler on real replicas: more replicas when the measured request rate is above what one
is sized for, none at all when idle and min is 0, and the first request after that waits for a
replica and is answered."""

import pytest

from serving.models import Endpoint, EndpointTraffic
from serving.services.reconcile import serving_reconcile
from tests.notebooks.browser import wait_for
from tests.serving.test_endpoints_docker import Load, containers_of, infer, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_scales_on_load_to_zero_and_back(teams, gateway, serving_worker, docker_client, serving_settings):
    _lab, _other, clients = teams
    client = clients["lab"]
    created = client.post(
        "/api/v1/endpoints/",
        {
            "tenant": "lab",
            "name": "elastic",
            "model": {"name": "line", "version": "1"},
            "replicas": {"min": 0, "max": 2},
            "flavor": "serve",
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    pk = created.json()["id"]
    body = settled(client, pk, version="1")
    assert len(body["replicas"]["items"]) == 1  # min 0 still starts with one: it answers at once
    key = client.post(f"/api/v1/endpoints/{pk}/keys/", {"name": "app"}, format="json").json()["key"]
    url = body["url"]

    # Sized for a fraction of a request per second, a steady load asks for the second replica.
    serving_settings.SERVING_TARGET_RPS = 0.5
    serving_reconcile()  # the counters' starting point
    with Load(url, key, threads=2) as load:
        wait_for(lambda: len(load.answers) >= 20, what="some load")
        serving_reconcile()
        wait_for(lambda: Endpoint.objects.get(pk=pk).desired_replicas == 2, what="the scale up")
        settled(client, pk)
    assert load.failures == []
    assert len(containers_of(docker_client, pk)) == 2
    traffic = EndpointTraffic.objects.get(endpoint_id=pk)
    assert traffic.requests >= 20 and traffic.errors == 0 and traffic.history

    # Idle (no request for SERVING_IDLE_S) with min 0: no replica at all.
    serving_settings.SERVING_IDLE_S = 0
    serving_reconcile()
    wait_for(lambda: not containers_of(docker_client, pk), what="the scale to zero")
    assert settled(client, pk)["replicas"]["items"] == []

    # The first request wakes it: it waits for a replica and gets its answer.
    serving_settings.SERVING_IDLE_S = 300
    assert infer(url, key, [2.0]) == (200, [5.0])
    assert len(containers_of(docker_client, pk)) == 1

    assert client.delete(f"/api/v1/endpoints/{pk}/").status_code == 202
    wait_for(lambda: not containers_of(docker_client, pk), what="the replicas' removal")
