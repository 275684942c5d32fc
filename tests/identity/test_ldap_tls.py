"""Directory sign-in over StartTLS and LDAPS, against slapd with a certificate of a private CA."""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import Client

from tenants.models import User
from tests.identity import directory as test_directory
from tests.identity.conftest import point_at_directory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def tls_directory():
    folder = Path(tempfile.mkdtemp(prefix="portal-slapd-tls-"))
    running = test_directory.directory_start(tls=test_directory.tls_files(folder))
    yield running
    running.stop()
    shutil.rmtree(folder, ignore_errors=True)


def signs_in(username: str) -> bool:
    client = Client()
    client.post("/login/", {"username": username, "password": test_directory.PASSWORD})
    return client.get("/").status_code == 200


def test_start_tls(settings, tls_directory):
    point_at_directory(settings, tls_directory.url)
    settings.AUTH_LDAP_START_TLS = True
    settings.PORTAL_LDAP_CA_FILE = tls_directory.ca_file

    assert signs_in("alice")


def test_ldaps(settings, tls_directory):
    point_at_directory(settings, tls_directory.tls_url)
    settings.PORTAL_LDAP_CA_FILE = tls_directory.ca_file

    assert signs_in("alice")


def test_a_certificate_the_portal_does_not_trust_is_refused(settings, tls_directory):
    point_at_directory(settings, tls_directory.url)
    settings.AUTH_LDAP_START_TLS = True
    settings.PORTAL_LDAP_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"

    assert not signs_in("alice")
    assert not User.objects.filter(username="alice").exists()
