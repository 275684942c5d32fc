"""catalog.manifest: what an image author sees for each mistake."""

import copy

import pytest

from catalog.manifest import Healthcheck, Manifest, ManifestError, Service, manifest_validate
from tests.catalog.factories import MANIFEST

GOOD_YAML = """
slug: pytorch-ddp
name: PyTorch DDP cluster
version: "1.0.0"
description: Training cluster.
category: training
icon: icon.svg
gpu: true
default_flavor: medium
user: {name: scientist, uid: 1000, gid: 1000}
workspace: /workspace
capabilities: [cap_net_bind_service]
environment: {OMP_NUM_THREADS: "1"}
roles:
  head:
    min_nodes: 1
    max_nodes: 1
    services:
      - {name: jupyter, port: 8888, protocol: http, path: /lab, main: true}
      - {name: ssh, port: 2222, protocol: tcp, path: "", main: false}
    healthcheck:
      test: ["CMD", "/usr/local/bin/sandbox-healthcheck"]
  worker:
    min_nodes: 0
    max_nodes: 16
    default_nodes: 2
    services:
      - {name: ssh, port: 2222, protocol: tcp}
    healthcheck: {test: ["CMD-SHELL", "true"], retries: 3}
"""

FLAVORS = {"small", "medium", "large", "gpu"}


def errors_of(data, **kwargs) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        manifest_validate(data, **kwargs)
    return caught.value.errors


def changed(path: str, value) -> dict:
    """The good manifest with the value at a dotted `path` ("roles.head.min_nodes") replaced,
    or removed when `value` is ...; list indices are numbers ("services.0")."""
    data = copy.deepcopy(MANIFEST)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    key = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


class FakeRegistry:
    address = "127.0.0.1:5000"

    def __init__(self, *images: str):
        self.images = set(images)

    def has_image(self, *, slug: str, version: str) -> bool:
        return f"{slug}:{version}" in self.images


def test_a_good_manifest_is_normalised_with_defaults_filled_in():
    result = manifest_validate(GOOD_YAML, flavors=FLAVORS)

    assert result.slug == "pytorch-ddp"
    assert result.capabilities == ("NET_BIND_SERVICE",)
    assert result.environment == {"OMP_NUM_THREADS": "1"}
    assert result.roles["head"].default_nodes == 1  # defaults to min_nodes
    assert result.head.healthcheck == Healthcheck(
        test=("CMD", "/usr/local/bin/sandbox-healthcheck"),
        interval_s=2,
        timeout_s=5,
        retries=30,
        start_period_s=60,
    )
    assert result.roles["worker"].services == (Service(name="ssh", port=2222, protocol="tcp"),)
    assert result.roles["worker"].healthcheck.retries == 3
    assert result.user.container_user == "1000:1000"


def test_a_normalised_manifest_validates_to_itself():
    assert manifest_validate(copy.deepcopy(MANIFEST), flavors=FLAVORS).as_json() == MANIFEST


def test_a_stored_manifest_reads_back_as_the_manifest_it_was():
    manifest = manifest_validate(copy.deepcopy(MANIFEST), flavors=FLAVORS)
    assert Manifest.from_json(manifest.as_json()) == manifest
    assert manifest.has_jupyter


def test_optional_fields_get_their_defaults():
    data = copy.deepcopy(MANIFEST)
    for field in (
        "description",
        "icon",
        "gpu",
        "default_flavor",
        "workspace",
        "capabilities",
        "environment",
        "host_labels",
    ):
        del data[field]

    result = manifest_validate(data)

    assert result.description == ""
    assert result.icon == ""
    assert result.gpu is False
    assert result.default_flavor is None
    assert result.workspace == "/workspace"
    assert result.capabilities == ()
    assert result.environment == {}
    assert result.host_labels == {}


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("version", ..., "version: missing field"),
        ("version", 1.0, 'version: must be a string, not float (quote it: "1.0")'),
        ("slug", "Bad_Slug", "slug: 'Bad_Slug' does not match ^[a-z0-9][a-z0-9-]{1,48}$"),
        ("name", "  ", "name: must be 1 to 200 characters"),
        ("category", "games", "category: 'games' is not one of notebook, training, batch"),
        ("gpu", "yes please", "gpu: must be true or false, not a string"),
        ("icon", "../icon.svg", "icon: '../icon.svg' must be the name of an .svg file beside the manifest"),
        ("default_flavor", "huge", "default_flavor: unknown flavor 'huge'"),
        ("user", ..., "user: missing field"),
        ("user.uid", 0, "user.uid: must not be 0: sandboxes never run as root"),
        ("user.gid", 70000, "user.gid: 70000 is out of range 0-65535"),
        ("user.home", "/root", "user.home: unknown field"),
        ("workspace", "workspace", "workspace: 'workspace' must be an absolute path"),
        (
            "capabilities",
            ["SYS_ADMIN"],
            "capabilities[0]: 'SYS_ADMIN' is not allowed (allowed: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, "
            "FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_RAW, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
        ),
        ("environment", {"SANDBOX_ROLE": "worker"}, "environment.SANDBOX_ROLE: is reserved for the platform"),
        ("environment", {"THREADS": 4}, "environment.THREADS: must be a string, not int"),
        ("host_labels", {"Zone": "a"}, "host_labels: 'Zone': keys are 1-63 of a-z, 0-9, '.', '_', '-', '/'"),
        (
            "host_labels",
            {"zone": "a b"},
            "host_labels: zone: values are 1-63 of letters, digits, '.', '_', '-'",
        ),
        ("host_labels", ["zone"], "host_labels: must be a mapping of label to value"),
        ("environment", {"2FAST": "x"}, "environment.2FAST: is not a valid variable name"),
        ("roles", {}, "roles: a 'head' role is required"),
        ("roles.head.min_nodes", 0, "roles.head.min_nodes: must be >= 1: a sandbox always has a head node"),
        ("roles.head.max_nodes", True, "roles.head.max_nodes: must be an integer, not a boolean"),
        (
            "roles.head.default_nodes",
            3,
            "roles.head.default_nodes: must be between min_nodes (1) and max_nodes (1)",
        ),
        ("roles.head.services.0.port", 70000, "roles.head.services[0].port: 70000 is out of range 1-65535"),
        (
            "roles.head.services.0.protocol",
            "udp",
            "roles.head.services[0].protocol: 'udp' is not one of http, tcp",
        ),
        ("roles.head.services.0.path", "lab", "roles.head.services[0].path: 'lab' must start with /"),
        ("roles.head.services.0.name", ..., "roles.head.services[0].name: missing field"),
        ("roles.head.healthcheck", ..., "roles.head.healthcheck: missing field"),
        (
            "roles.head.healthcheck.test",
            "curl localhost",
            "roles.head.healthcheck.test: must be a list like"
            ' ["CMD", "/path/to/check", ...] or ["CMD-SHELL", "..."]',
        ),
        ("roles.head.healthcheck.retries", 0, "roles.head.healthcheck.retries: must be >= 1"),
        ("colour", "blue", "colour: unknown field"),
    ],
)
def test_each_mistake_is_named_with_its_path(path, value, error):
    assert errors_of(changed(path, value), flavors=FLAVORS) == [error]


def test_every_mistake_is_reported_at_once():
    data = copy.deepcopy(MANIFEST)
    del data["version"]
    data["default_flavor"] = "huge"
    data["roles"]["worker"] = {
        "min_nodes": 2,
        "max_nodes": 1,
        "services": [
            {"name": "ssh", "port": 2222, "protocol": "tcp", "main": True},
            {
                "name": "ssh",
                "port": 2222,
                "protocol": "tcp",
                "main": True,
                "strip_prefix": True,
                "wait": False,
            },
        ],
        "healthcheck": {"test": ["CMD", "true"]},
    }

    assert errors_of(data, flavors=FLAVORS) == [
        "version: missing field",
        "default_flavor: unknown flavor 'huge'",
        "roles.worker.max_nodes: must be >= min_nodes (2)",
        "roles.worker.services[1].name: duplicate service name 'ssh'",
        "roles.worker.services[1].port: port 2222 is already used by another service of this role",
        "roles.worker.services[1].strip_prefix: only an http service is reached through the gateway",
        "roles.worker.services[1].wait: a node is ready only once its main service answers",
        "roles.worker.services: at most one service may be main, not 2",
    ]


def test_a_side_service_may_be_left_out_of_readiness_and_keeps_it_through_json():
    data = copy.deepcopy(MANIFEST)
    data["roles"]["head"]["services"].append({"name": "board", "port": 6006, "wait": False})

    manifest = manifest_validate(data, flavors=FLAVORS)

    board = manifest.roles["head"].services[-1]
    assert (board.name, board.wait) == ("board", False)
    assert all(s.wait for s in manifest.roles["head"].services[:-1])
    assert Manifest.from_json(manifest.as_json()) == manifest
    assert manifest.as_json()["roles"]["head"]["services"][-1]["wait"] is False


def test_yaml_syntax_errors_name_the_line():
    assert errors_of("slug: a\nroles: [\n") == [
        "line 3, column 1: expected the node content, but found '<stream end>'"
    ]


def test_a_manifest_that_is_not_a_mapping_is_refused():
    assert errors_of("- just\n- a list\n") == ["manifest: must be a mapping, not a list"]


def test_the_image_must_be_in_the_registry_when_asked():
    registry = FakeRegistry("demo-notebook:0.9")

    assert errors_of(copy.deepcopy(MANIFEST), registry=registry) == [
        "image: unknown image 127.0.0.1:5000/demo-notebook:1.0.0 in the registry"
    ]
    assert manifest_validate(copy.deepcopy(MANIFEST), registry=FakeRegistry("demo-notebook:1.0.0"))


@pytest.mark.parametrize("slug", ["foo", "jupyter-pytorch", "a1"])
def test_slugs_that_docker_and_urls_accept(slug):
    assert manifest_validate(changed("slug", slug)).slug == slug


def test_shipped_manifests_are_valid():
    from catalog.services.images import image_dirs

    for folder in image_dirs():
        manifest = manifest_validate((folder / "manifest.yaml").read_text(), flavors=FLAVORS)
        assert manifest.slug == folder.name


def test_a_catalog_item_reads_its_stored_manifest_as_a_manifest():
    from catalog.models import CatalogItem

    item = CatalogItem(manifest=copy.deepcopy(MANIFEST))
    assert item.spec.user.container_user == "1000:1000" and item.spec.workspace == "/workspace"

    item.manifest = {**copy.deepcopy(MANIFEST), "workspace": "/home/scientist"}
    assert item.spec.workspace == "/home/scientist"


def test_frameworks_name_what_jobs_get_and_default_to_torch():
    assert manifest_validate(changed("frameworks", ["spark", "dask", "spark"])).frameworks == (
        "spark",
        "dask",
    )
    assert manifest_validate(changed("frameworks", [])).frameworks == ()
    assert manifest_validate(changed("frameworks", ...)).frameworks == ("torch",)
    # A manifest stored before the field existed reads as what every job got then.
    stored = copy.deepcopy(MANIFEST)
    del stored["frameworks"]
    assert Manifest.from_json(stored).frameworks == ("torch",)
    assert errors_of(changed("frameworks", ["ray", "mpi"])) == [
        "frameworks[0]: 'ray' is not one of torch, tensorflow, mpi, spark, dask"
    ]
    assert errors_of(changed("frameworks", "mpi")) == ["frameworks: must be a list, not a string"]
