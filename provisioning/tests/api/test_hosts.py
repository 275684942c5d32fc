"""The hosts API takes Docker engines only: the test doubles' fake:// scheme, registered with the
driver registry during tests, is never a host an API client can add."""

import pytest
from rest_framework.test import APIClient

from provisioning.models import Host
from tenants.tests.factories import UserFactory


@pytest.mark.parametrize("url", ["fake://fake-1", "ssh://root@engine", "http://engine:2375"])
def test_only_docker_engine_urls_are_accepted(db, url):
    client = APIClient()
    client.force_authenticate(UserFactory(username="root", is_site_admin=True))

    answer = client.post("/api/v1/hosts/", {"name": "rogue", "url": url}, format="json")

    assert answer.status_code == 400
    assert "url" in answer.content.decode()
    assert not Host.objects.exists()
