"""The API's world: tenant `acme` (the one under test) with one of every tenant-owned object,
tenant `globex` next to it, site-wide objects, and the people who act on them:

- root: site admin
- alice: acme's tenant admin, owner of acme's sandbox
- bob: acme member
- mallory: globex's tenant admin (she administers a tenant, just not acme)

Runs on the fake driver and without a Celery worker: these tests never commit (pytest-django's
`db`), so no task is enqueued and no container starts; sandboxes stay `pending`.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from catalog.models import CatalogItem, Flavor, ImageBuild
from identity.models import GroupMapping
from provisioning.models import DataTap, Host, HostPathPrefix, Job, Operation, Sandbox
from provisioning.services.sandboxes import sandbox_create
from serving.models import Endpoint, EndpointKey
from serving.services.keys import endpoint_key_create
from tenants.models import Membership, Tenant, Token, User
from tenants.services.tokens import token_create

HEALTHCHECK = {"test": ["CMD", "true"], "interval_s": 1, "timeout_s": 2, "retries": 3, "start_period_s": 5}
MANIFEST = {
    "slug": "notebook",
    "user": {"name": "scientist", "uid": 1000, "gid": 1000},
    "workspace": "/workspace",
    "capabilities": [],
    "environment": {},
    "roles": {
        "head": {
            "min_nodes": 1,
            "max_nodes": 1,
            "default_nodes": 1,
            "services": [],
            "healthcheck": HEALTHCHECK,
        },
    },
}
ROLES = ("site_admin", "tenant_admin", "member", "outsider")


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    site_admin: User
    tenant_admin: User
    member: User
    outsider: User
    flavor: Flavor
    item: CatalogItem
    host: Host
    prefix: HostPathPrefix
    datatap: DataTap
    sandbox: Sandbox
    operation: Operation
    job: Job
    build: ImageBuild
    token: Token  # alice's
    group_mapping: GroupMapping  # grants membership of acme
    endpoint: Endpoint  # acme's, alice's
    endpoint_key: EndpointKey
    keys: dict[str, str] = field(default_factory=dict)  # role: an API token key

    def user(self, role: str) -> User:
        return getattr(self, role)

    def client(self, role: str | None) -> APIClient:
        """A client that sends the role's API token (None: anonymous)."""
        client = APIClient()
        if role is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[role]}")
        return client

    def path_values(self) -> dict[str, object]:
        """The value of each path parameter, by the collection it follows: acme's objects."""
        return {
            "tenants": self.acme.slug,
            "members": self.member.username,
            "catalog": self.item.slug,
            "flavors": self.flavor.name,
            "sandboxes": self.sandbox.pk,
            "operations": self.operation.pk,
            "jobs": self.job.pk,
            "datataps": self.datatap.pk,
            "datatap-prefixes": self.prefix.pk,
            "hosts": self.host.pk,
            "tokens": self.token.pk,
            "catalog-builds": self.build.pk,
            "users": self.member.pk,
            "group-mappings": self.group_mapping.pk,
            "endpoints": self.endpoint.pk,
            "keys": self.endpoint_key.pk,
        }


def _user(username: str, *, tenant: Tenant | None = None, role=Membership.Role.MEMBER, **extra) -> User:
    user = User.objects.create_user(username=username, password="unused-in-these-tests", **extra)
    if tenant is not None:
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def world(db) -> World:
    quota = {
        "quota_cpus": Decimal("8"),
        "quota_memory_mib": 16384,
        "quota_gpus": 0,
        "quota_storage_gib": 100,
        "quota_sandboxes": 5,
    }
    acme = Tenant.objects.create(slug="acme", name="Acme", **quota)
    globex = Tenant.objects.create(slug="globex", name="Globex", **quota)
    root = _user("root", is_site_admin=True)
    alice = _user("alice", tenant=acme, role=Membership.Role.ADMIN)
    bob = _user("bob", tenant=acme)
    mallory = _user("mallory", tenant=globex, role=Membership.Role.ADMIN)
    flavor = Flavor.objects.get_or_create(
        name="small", defaults={"cpus": Decimal("1"), "memory_mib": 2048, "gpus": 0, "disk_gib": 10}
    )[0]
    item = CatalogItem.objects.create(
        slug="notebook",
        name="Notebook",
        version="1",
        category="notebook",
        default_flavor=flavor,
        manifest=MANIFEST,
    )
    host = Host.objects.create(name="fake-1", url="fake://fake-1", cpus=8, memory_mib=65536)
    prefix = HostPathPrefix.objects.create(path="/srv/acme-data", created_by=root)
    datatap = DataTap.objects.create(
        tenant=acme, name="acme-tap", kind=DataTap.Kind.HOSTPATH, path="/srv/acme-data/x", created_by=alice
    )
    sandbox = sandbox_create(
        owner=alice, tenant=acme, name="acme-box", catalog_item=item.slug, flavor=flavor.name
    )
    job = Job.objects.create(
        sandbox=sandbox, command="true", target="all", master_port=29500, requested_by=alice
    )
    build = ImageBuild.objects.create(
        slug="custom", version="1", manifest=MANIFEST, dockerfile="FROM x", requested_by=root
    )
    token, _ = token_create(user=alice, name="alice-ci")
    endpoint = Endpoint.objects.create(
        tenant=acme, owner=alice, name="acme-model", model_name="line", model_version="1", flavor=flavor
    )
    world = World(
        acme=acme,
        globex=globex,
        site_admin=root,
        tenant_admin=alice,
        member=bob,
        outsider=mallory,
        flavor=flavor,
        item=item,
        host=host,
        prefix=prefix,
        datatap=datatap,
        sandbox=sandbox,
        operation=sandbox.operations.get(),
        job=job,
        build=build,
        token=token,
        group_mapping=GroupMapping.objects.create(
            group="acme-team", grant="member", tenant=acme, tenant_slug="acme"
        ),
        endpoint=endpoint,
        endpoint_key=endpoint_key_create(endpoint=endpoint, actor=alice, name="app")[0],
    )
    for role in ROLES:
        world.keys[role] = token_create(user=world.user(role), name="tests")[1]
    return world


@pytest.fixture(scope="session")
def openapi() -> dict:
    """The schema as /api/schema/ serves it, generated once for the session."""
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="session")
def wsgi_app():
    return get_wsgi_application()


def operations(openapi: dict):
    """(method, path template) of every operation under /api/v1/."""
    for path, item in openapi["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete") and path.startswith("/api/v1/"):
                yield method.upper(), path


def fill_path(path: str, values: dict[str, object]) -> str:
    """/api/v1/sandboxes/{id}/start/ with the value for the collection before each parameter."""
    segments = path.strip("/").split("/")
    for position, segment in enumerate(segments):
        if segment.startswith("{"):
            collection = segments[position - 1]
            if collection not in values:
                raise LookupError(f"{path}: no object for parameters after /{collection}/; add one to World")
            segments[position] = str(values[collection])
    return "/" + "/".join(segments) + "/"
