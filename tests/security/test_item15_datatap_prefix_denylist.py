"""Issue 21, item 15: the DataTap prefix deny-list let site admins allow /home, /opt, /mnt and
the like, where the portal's own secrets can lie (its install, its state with the hosts' TLS
keys, the engines' data). Those are denied, from the settings where a site moved them; a
dedicated data root such as /srv stays allowed."""

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from provisioning.errors import InvalidRequest
from provisioning.models import HostPathPrefix
from provisioning.services.datataps import hostpath_prefix_add
from tenants.models import User


@pytest.fixture
def site_admin(db):
    return User.objects.create_user(username="root-admin", password="unused", is_site_admin=True)


@pytest.mark.parametrize(
    "path",
    [
        "/home",
        "/home/alice",
        "/opt",
        "/opt/portal",
        "/opt/portal/chp",
        "/mnt",
        "/media",
        "/var/lib/portal",
        "/var/lib/portal/hosts/tls",
        "/etc",
        "/etc/ssl/private",
        "/root",
        "/var/lib/docker/volumes",
        str(django_settings.BASE_DIR),
        str(django_settings.BASE_DIR / "var"),
        str(django_settings.BASE_DIR.parent),
    ],
)
def test_folders_holding_the_portals_secrets_are_refused(site_admin, path):
    with pytest.raises(InvalidRequest):
        hostpath_prefix_add(actor=site_admin, path=path)
    assert not HostPathPrefix.objects.exists()


def test_a_state_folder_and_engine_data_root_moved_elsewhere_are_refused(site_admin, settings):
    settings.STATE_DIR = django_settings.BASE_DIR.parent / "portal-state"
    settings.DOCKER_DATA_ROOTS = ["/data/docker"]
    for path in ("/data", "/data/docker", "/data/docker/volumes", f"{settings.STATE_DIR}/hosts/tls"):
        with pytest.raises(InvalidRequest):
            hostpath_prefix_add(actor=site_admin, path=path)
    assert hostpath_prefix_add(actor=site_admin, path="/data/datasets").path == "/data/datasets"


@pytest.mark.parametrize("path", ["/srv", "/srv/data", "/mnt/datasets", "/opt/datasets", "/data"])
def test_a_dedicated_data_root_is_allowed(site_admin, path):
    assert hostpath_prefix_add(actor=site_admin, path=path).path == path


def test_the_api_refuses_the_home_folders(site_admin):
    client = APIClient()
    client.force_authenticate(site_admin)
    refused = client.post("/api/v1/datatap-prefixes/", {"path": "/home"}, format="json")
    assert refused.status_code == 400
    assert "path" in refused.json()
    assert not HostPathPrefix.objects.exists()
