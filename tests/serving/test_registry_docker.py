"""A model version from the tenant's registry, for real: the tenant's MLflow tracking server
(tracking/) runs, an MLflow client registers a scikit-learn model in it, and an endpoint's
replica fetches `models:/line/1` from it at start (credentials as a secret file) and answers
through the gateway. Deleting the endpoint takes the tracking server off its network."""

import pytest
from django.conf import settings
from django.test import Client

from serving.models import Endpoint
from tenants.models import Membership, User
from tests.notebooks.browser import wait_for
from tests.serving.test_endpoints_docker import containers_of, infer, settled
from tests.tracking.conftest import (  # noqa: F401 - fixtures
    tracking_image_built,
    tracking_leftovers_removed,
    tracking_servers_removed,
)
from tracking import naming
from tracking.models import TrackingServer
from tracking.selectors import tracking_server_ready_for
from tracking.services import tracking_client_config, tracking_join_network, tracking_leave_network
from tracking.states import TrackingStatus

pytestmark = pytest.mark.django_db(transaction=True)

REGISTER = """
import numpy as np, mlflow, mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression
X = np.arange(10, dtype=float).reshape(-1, 1)
model = LinearRegression().fit(X, 2 * X[:, 0] + 1)
with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model", registered_model_name="line",
                             signature=infer_signature(X, model.predict(X)))
print("registered")
"""


@pytest.fixture
def tracking_purged_after():
    """The tenant's tracking server, its database and its sized volume go when the test ends
    (the session's first fixture only removes what an interrupted run left)."""
    yield
    tracking_servers_removed()


def test_replicas_fetch_the_version_from_the_tenants_registry(
    teams,
    gateway,
    serving_worker,
    docker_client,
    tracking_image_built,  # noqa: F811 - a fixture, imported above
    model_server_published,
    tracking_purged_after,
):
    lab, _other, clients = teams
    client = clients["lab"]
    Membership.objects.filter(tenant=lab).update(role=Membership.Role.ADMIN)
    assert client.patch("/api/v1/tenants/lab/", {"tracking": True}, format="json").status_code == 200
    wait_for(
        lambda: TrackingServer.objects.filter(
            tenant=lab, status__in=(TrackingStatus.READY, TrackingStatus.ERROR)
        ).exists(),
        seconds=600,
        what="the tracking server",
    )
    server = tracking_server_ready_for(tenant=lab)
    assert server is not None, TrackingServer.objects.get(tenant=lab).explanation
    config = tracking_client_config(server=server)

    # An MLflow client on a network the server joined registers version 1 of "line".
    network = f"{settings.SITE}-register-net"
    docker_client.networks.create(network)
    try:
        tracking_join_network(server=server, network=network)
        output = docker_client.containers.run(
            model_server_published,
            entrypoint=["python3", "-c", REGISTER],
            environment={
                "MLFLOW_TRACKING_URI": config.uri,
                "MLFLOW_TRACKING_USERNAME": config.username,
                "MLFLOW_TRACKING_PASSWORD": config.password,
            },
            network=network,
            working_dir="/tmp",  # noqa: S108 - inside the client container
            remove=True,
        )
        assert b"registered" in output
    finally:
        tracking_leave_network(server=server, network=network)
        docker_client.networks.get(network).remove()

    # The Models page lists it with a Deploy button.
    browser = Client()
    browser.force_login(User.objects.get(username="grace"))
    page = browser.get("/models/?tenant=lab").content.decode()
    assert "<strong>line</strong>" in page and "model_name=line&amp;model_version=1" in page

    created = client.post(
        "/api/v1/endpoints/",
        {
            "tenant": "lab",
            "name": "line",
            "model": {"name": "line", "version": "1"},
            "replicas": {"min": 1, "max": 1},
            "flavor": "serve",
        },
        format="json",
    )
    assert created.status_code == 202, created.json()
    pk = created.json()["id"]
    body = settled(client, pk, version="1")
    (container,) = containers_of(docker_client, pk)
    env = docker_client.api.inspect_container(container["Id"])["Config"]["Env"]
    assert "MODEL_URI=models:/line/1" in env and f"MLFLOW_TRACKING_URI={config.uri}" in env
    assert not any(config.password in value for value in env)
    key = client.post(f"/api/v1/endpoints/{pk}/keys/", {"name": "app"}, format="json").json()["key"]
    assert infer(body["url"], key, [0.0, 5.0]) == (200, [1.0, 11.0])

    # A version the registry does not have: the endpoint stays on version 1 and says why.
    assert (
        client.patch(f"/api/v1/endpoints/{pk}/", {"model": {"version": "7"}}, format="json").status_code
        == 202
    )
    body = settled(client, pk, version="1")
    assert "Version 7" in body["status_detail"] and "rolled back to version 1" in body["status_detail"]

    assert client.delete(f"/api/v1/endpoints/{pk}/").status_code == 202
    wait_for(lambda: not containers_of(docker_client, pk), what="the replica's removal")
    endpoint = Endpoint.objects.get(pk=pk)
    wait_for(
        lambda: not docker_client.api.networks(filters={"name": endpoint.network_name}),
        what="the network's removal",
    )
    tracking_container = docker_client.api.inspect_container(naming.container_name(lab.pk))
    assert endpoint.network_name not in tracking_container["NetworkSettings"]["Networks"]
