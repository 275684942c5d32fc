"""Audit events: what one records, that none can be altered or deleted, and the client address
they carry."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, override_settings

from common.client_ip import client_ip
from tenants.models import AuditEvent, AuditEventImmutable
from tenants.services.audit import audit_record
from tenants.tests.factories import TenantFactory, UserFactory


@pytest.fixture
def event(db):
    tenant = TenantFactory(slug="acme")
    return audit_record(
        actor=UserFactory(username="alice"),
        action="tenant.update",
        tenant=tenant,
        target=tenant,
        ip="203.0.113.5",
    )


def test_target_names_the_object(event):
    assert (event.actor_username, event.object_type, event.object_id, event.object_repr) == (
        "alice",
        "tenants.tenant",
        str(event.tenant.pk),
        "acme",
    )
    assert (event.result, str(event.ip)) == ("success", "203.0.113.5")


def test_orm_refuses_to_update_or_delete(event):
    event.action = "nothing.happened"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing.happened")
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "tenant.update"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tenants_auditevent SET action = 'nothing.happened' WHERE id = %s",
        "DELETE FROM tenants_auditevent WHERE id = %s",
    ],
)
def test_database_refuses_to_update_or_delete(event, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "tenant.update"


def test_deleting_a_user_with_a_history_is_refused(event):
    with pytest.raises(Exception, match="protected|foreign key|append-only"), transaction.atomic():
        event.actor.delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_username == "alice"


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("198.51.100.7", None, "198.51.100.7"),
        # a client that is not a trusted proxy cannot claim another address
        ("198.51.100.7", "203.0.113.5", "198.51.100.7"),
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        # only the hop the trusted proxy added counts; what the client wrote before it does not
        ("127.0.0.1", "10.9.9.9, 203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("::1", "2001:db8::5", "2001:db8::5"),
    ],
)
@override_settings(TRUSTED_PROXIES=["127.0.0.1", "::1"])
def test_client_ip(remote, forwarded, client):
    assert client_ip(_request(remote, forwarded)) == client


@pytest.mark.parametrize("remote", ["127.0.0.1", "::1", "198.51.100.7"])
def test_client_ip_believes_no_header_unless_a_proxy_is_configured(remote):
    assert client_ip(_request(remote, "203.0.113.5")) == remote


@override_settings(TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"])
def test_client_ip_walks_a_chain_of_trusted_proxies():
    assert client_ip(_request("127.0.0.1", "203.0.113.5, 10.1.2.3")) == "203.0.113.5"
