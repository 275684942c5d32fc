"""The Celery broker (Redis, no persistence) restarted while a sandbox is being created, and a
request made while it is down: every message in it is lost, yet each request is accepted, and
every sandbox ends running with nothing duplicated or left behind."""

from contextlib import contextmanager

import pytest

from conftest import Worker
from provisioning.models import Operation
from provisioning.services.reconciler import operations_resume_stale
from tests.resilience.conftest import assert_recovered, settle, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def broker(url: str, settings):
    """This test process sends its tasks to `url`, as the web process of that deploy would."""
    from portal.celery import app

    def use(new: str) -> None:
        app.conf.broker_url = new
        app.conf.result_backend = new
        # Forget the pools of the previous broker's connections, without closing them: kombu
        # keeps them by URL, and the other tests use them again afterwards.
        app._after_fork()

    old = app.conf.broker_url
    settings.CELERY_BROKER_URL = url
    use(url)
    try:
        yield app
    finally:
        use(old)


def create(client, name: str) -> int:
    response = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": name, "catalog_item": "python-minimal", "flavor": "small"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_broker_restart_loses_no_request(team, published, private_redis, settings, docker_client):
    tenant, _user, client = team
    published("python-minimal")
    settings.OPERATION_STALE_S = 2
    with broker(private_redis.url, settings):
        worker = Worker("redis-fault", PORTAL_TEST_REDIS_URL=private_redis.url).wait_ready()
        try:
            before = create(client, "before")
            wait_until(
                lambda: Operation.objects.filter(sandbox_id=before, attempts__gte=1).exists(),
                what="a worker to take the create",
            )
            private_redis.kill()  # queued and scheduled messages are gone with it
            during = create(client, "during")  # accepted all the same, recorded, not yet sent
            assert Operation.objects.get(sandbox_id=during).status == "pending"
            private_redis.start()

            def resumed_and_settled():
                operations_resume_stale()  # what the reconciler's beat does every 15 s
                return settle([before, during], seconds=3)

            wait_until(
                lambda: _quietly(resumed_and_settled), seconds=180, every=1, what="both sandboxes to settle"
            )
            sandboxes = settle([before, during])
            assert {s.status for s in sandboxes.values()} == {"running"}, {
                s.pk: (s.status, s.explanation) for s in sandboxes.values()
            }
            assert_recovered([before, during], [docker_client], tenant)

            for sandbox_id in (before, during):
                assert client.delete(f"/api/v1/sandboxes/{sandbox_id}/").status_code == 202
            sandboxes = settle([before, during])
            assert {s.status for s in sandboxes.values()} == {"deleted"}
            assert_recovered([before, during], [docker_client], tenant)
        finally:
            worker.stop()


def _quietly(check):
    try:
        return check()
    except AssertionError:
        return None
