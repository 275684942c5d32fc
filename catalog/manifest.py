"""Load and validate an image manifest (catalog/images/<slug>/manifest.yaml) into a typed,
frozen Manifest. CatalogItem.manifest stores its normalised JSON (`Manifest.as_json()`), and
`CatalogItem.spec` reads that back as a Manifest, which is what every other module reads.

Pure: no database, no network. Callers pass what the manifest is checked against (the flavor
names, a registry lookup) so the same rules serve the build command, the API and the tests.
Every mistake is collected, each as "<path>: <message>", so an author fixes them in one go.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from common.errors import Invalid

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}$")
# A Docker tag, capped at the model's 50 characters.
VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
USER_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ICON_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.svg$")

CATEGORIES = ("notebook", "training", "batch")
# The distributed frameworks whose environment the portal sets in a job from the sandbox's
# nodes (provisioning.frameworks). A manifest from before the field gets torch's: what every
# job got then.
FRAMEWORKS = ("torch", "tensorflow", "mpi", "spark", "dask")
DEFAULT_FRAMEWORKS = ("torch",)
PROTOCOLS = ("http", "tcp")
HEALTHCHECK_KINDS = ("CMD", "CMD-SHELL")
HEAD_ROLE = "head"
DEFAULT_WORKSPACE = "/workspace"
# The service whose presence on the head role means the image runs JupyterLab there: Open
# Jupyter opens it through the gateway.
JUPYTER_SERVICE = "jupyter"
# Nodes run with every capability dropped; a manifest may add back only what Docker grants a
# container by default, never the ones that open the host (SYS_ADMIN, NET_ADMIN, ...).
ALLOWED_CAPABILITIES = (
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)
# The platform sets these in every node (SANDBOX_ROLE, JUPYTER_TOKEN, ...).
RESERVED_ENV_PREFIXES = ("SANDBOX_",)
RESERVED_ENV_NAMES = ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_BASE_URL")

HOST_LABEL_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,62}$")
HOST_LABEL_VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
MAX_HOST_LABELS = 20

TOP_LEVEL_FIELDS = (
    "slug",
    "name",
    "version",
    "description",
    "category",
    "icon",
    "gpu",
    "default_flavor",
    "user",
    "workspace",
    "capabilities",
    "environment",
    "host_labels",
    "frameworks",
    "roles",
)
ROLE_FIELDS = ("min_nodes", "max_nodes", "default_nodes", "services", "healthcheck")
SERVICE_FIELDS = ("name", "port", "protocol", "path", "main", "strip_prefix", "wait")
HEALTHCHECK_DEFAULTS = {"interval_s": 2, "timeout_s": 5, "retries": 30, "start_period_s": 60}
USER_FIELDS = ("name", "uid", "gid")

_MISSING = object()


class ImageLookup(Protocol):
    """What the registry check needs (catalog.registry.RegistryClient is one)."""

    address: str

    def has_image(self, *, slug: str, version: str) -> bool: ...


class ManifestError(Invalid):
    """The manifest has mistakes; `errors` lists each as "<path>: <message>"."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors), fields={"manifest": errors})


@dataclass
class _Checker:
    errors: list[str]

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def unknown_fields(self, path: str, data: dict, allowed: Collection[str]) -> None:
        for key in data:
            if key not in allowed:
                self.add(_join(path, str(key)), "unknown field")

    def string(
        self, path: str, value: Any, *, pattern: re.Pattern | None = None, hint: str = ""
    ) -> str | None:
        if value is _MISSING:
            self.add(path, "missing field")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_type_name(value)}{hint}")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(path, f"{value!r} does not match {pattern.pattern}")
            return None
        return value

    def integer(self, path: str, value: Any, *, minimum: int, maximum: int | None = None) -> int | None:
        if value is _MISSING:
            self.add(path, "missing field")
            return None
        # bool is an int subclass: `true` must not pass as 1.
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(path, f"must be an integer, not {_type_name(value)}")
            return None
        if maximum is not None and not minimum <= value <= maximum:
            self.add(path, f"{value} is out of range {minimum}-{maximum}")
            return None
        if value < minimum:
            self.add(path, f"must be >= {minimum}")
            return None
        return value

    def boolean(self, path: str, value: Any) -> bool | None:
        if not isinstance(value, bool):
            self.add(path, f"must be true or false, not {_type_name(value)}")
            return None
        return value

    def mapping(self, path: str, value: Any) -> dict | None:
        if value is _MISSING:
            self.add(path, "missing field")
            return None
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping, not {_type_name(value)}")
            return None
        return value

    def sequence(self, path: str, value: Any) -> list | None:
        if not isinstance(value, list):
            self.add(path, f"must be a list, not {_type_name(value)}")
            return None
        return value


@dataclass(frozen=True)
class User:
    """Who a node's processes run as; never root."""

    name: str
    uid: int
    gid: int

    @property
    def container_user(self) -> str:
        """The "uid:gid" an engine runs a container or a command as."""
        return f"{self.uid}:{self.gid}"


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    interval_s: int = HEALTHCHECK_DEFAULTS["interval_s"]
    timeout_s: int = HEALTHCHECK_DEFAULTS["timeout_s"]
    retries: int = HEALTHCHECK_DEFAULTS["retries"]
    start_period_s: int = HEALTHCHECK_DEFAULTS["start_period_s"]


@dataclass(frozen=True)
class Service:
    """A port a role's nodes serve (Jupyter, SSH, TensorBoard, ...)."""

    name: str
    port: int
    protocol: str = "http"
    path: str = ""
    main: bool = False
    # The gateway passes on only what follows /gateway/<node key>/<name>: for a server that
    # cannot serve under a base path (code-server). Others get the whole path.
    strip_prefix: bool = False
    # Whether a node counts as ready only once this service answers. False for a side server
    # that starts after the main one (TensorBoard after Jupyter): the user's notebook is not
    # kept waiting for it, and its gateway link answers once it is up.
    wait: bool = True


@dataclass(frozen=True)
class Role:
    name: str
    min_nodes: int
    max_nodes: int
    default_nodes: int
    services: tuple[Service, ...] = ()
    healthcheck: Healthcheck | None = None


@dataclass(frozen=True)
class Manifest:
    """A validated manifest. Fields an older stored manifest may lack read as their defaults."""

    slug: str
    user: User
    roles: Mapping[str, Role]
    name: str = ""
    version: str = ""
    description: str = ""
    category: str = ""
    icon: str = ""
    gpu: bool = False
    default_flavor: str | None = None
    workspace: str = DEFAULT_WORKSPACE
    capabilities: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    host_labels: Mapping[str, str] = field(default_factory=dict)
    frameworks: tuple[str, ...] = DEFAULT_FRAMEWORKS

    @property
    def head(self) -> Role:
        return self.roles[HEAD_ROLE]

    @property
    def has_jupyter(self) -> bool:
        head = self.roles.get(HEAD_ROLE)
        return head is not None and any(s.name == JUPYTER_SERVICE for s in head.services)

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        """The Manifest of a stored, already validated manifest (CatalogItem.manifest)."""
        return cls(
            slug=data["slug"],
            user=User(**data["user"]),
            roles={name: _role_from_json(name, role) for name, role in data["roles"].items()},
            name=data.get("name", ""),
            version=data.get("version", ""),
            description=data.get("description", ""),
            category=data.get("category", ""),
            icon=data.get("icon", ""),
            gpu=data.get("gpu", False),
            default_flavor=data.get("default_flavor"),
            workspace=data.get("workspace", DEFAULT_WORKSPACE),
            capabilities=tuple(data.get("capabilities", ())),
            environment=dict(data.get("environment", {})),
            host_labels=dict(data.get("host_labels", {})),
            frameworks=tuple(data.get("frameworks", DEFAULT_FRAMEWORKS)),
        )

    def as_json(self) -> dict:
        """The normalised form CatalogItem.manifest and ImageBuild.manifest store."""
        return {
            "slug": self.slug,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "category": self.category,
            "icon": self.icon,
            "gpu": self.gpu,
            "default_flavor": self.default_flavor,
            "user": {"name": self.user.name, "uid": self.user.uid, "gid": self.user.gid},
            "workspace": self.workspace,
            "capabilities": list(self.capabilities),
            "environment": dict(self.environment),
            "host_labels": dict(self.host_labels),
            "frameworks": list(self.frameworks),
            "roles": {name: _role_as_json(role) for name, role in self.roles.items()},
        }


def _role_from_json(name: str, data: dict) -> Role:
    healthcheck = data.get("healthcheck")
    if healthcheck:
        healthcheck = Healthcheck(**{**healthcheck, "test": tuple(healthcheck["test"])})
    return Role(
        name=name,
        min_nodes=data["min_nodes"],
        max_nodes=data["max_nodes"],
        default_nodes=data.get("default_nodes", data["min_nodes"]),
        services=tuple(Service(**service) for service in data.get("services", ())),
        healthcheck=healthcheck or None,
    )


def _role_as_json(role: Role) -> dict:
    hc = role.healthcheck
    return {
        "min_nodes": role.min_nodes,
        "max_nodes": role.max_nodes,
        "default_nodes": role.default_nodes,
        "services": [
            {
                "name": s.name,
                "port": s.port,
                "protocol": s.protocol,
                "path": s.path,
                "main": s.main,
                # Only where set: manifests stored before the field stay equal to their JSON.
                **({"strip_prefix": True} if s.strip_prefix else {}),
                **({"wait": False} if not s.wait else {}),
            }
            for s in role.services
        ],
        "healthcheck": None
        if hc is None
        else {
            "test": list(hc.test),
            "interval_s": hc.interval_s,
            "timeout_s": hc.timeout_s,
            "retries": hc.retries,
            "start_period_s": hc.start_period_s,
        },
    }


def manifest_parse(text: str | bytes) -> Any:
    """YAML text to Python data; a syntax error becomes a ManifestError naming the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError([f"{where}: {problem}"]) from exc


def manifest_validate(
    data: str | bytes | dict,
    *,
    flavors: Collection[str] | None = None,
    registry: ImageLookup | None = None,
) -> Manifest:
    """Return the validated Manifest or raise ManifestError listing every mistake.

    `flavors`: the flavor names `default_flavor` may name (unchecked when None).
    `registry`: when given, `<registry>/<slug>:<version>` must already be there.
    """
    if isinstance(data, str | bytes):
        data = manifest_parse(data)
    check = _Checker(errors=[])
    if not isinstance(data, dict):
        raise ManifestError([f"manifest: must be a mapping, not {_type_name(data)}"])

    check.unknown_fields("", data, TOP_LEVEL_FIELDS)
    result: dict[str, Any] = {
        "slug": check.string("slug", data.get("slug", _MISSING), pattern=SLUG_RE),
        "name": _name(check, data.get("name", _MISSING)),
        "version": check.string(
            "version", data.get("version", _MISSING), pattern=VERSION_RE, hint=' (quote it: "1.0")'
        ),
        "description": check.string("description", data.get("description", "")),
        "category": _choice(check, "category", data.get("category", _MISSING), CATEGORIES),
        "icon": _icon(check, data.get("icon", "")),
        "gpu": check.boolean("gpu", data.get("gpu", False)),
        "default_flavor": _default_flavor(check, data.get("default_flavor"), flavors),
        "user": _user(check, data.get("user", _MISSING)),
        "workspace": _absolute_path(check, "workspace", data.get("workspace", DEFAULT_WORKSPACE)),
        "capabilities": _capabilities(check, data.get("capabilities", [])),
        "environment": _environment(check, data.get("environment", {})),
        "host_labels": _host_labels(check, data.get("host_labels", {})),
        "frameworks": _frameworks(check, data.get("frameworks", list(DEFAULT_FRAMEWORKS))),
        "roles": _roles(check, data.get("roles", _MISSING)),
    }
    slug, version = result["slug"], result["version"]
    if registry is not None and slug and version and not registry.has_image(slug=slug, version=version):
        check.add("image", f"unknown image {registry.address}/{slug}:{version} in the registry")
    if check.errors:
        raise ManifestError(check.errors)
    return Manifest.from_json(result)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _name(check: _Checker, value: Any) -> str | None:
    name = check.string("name", value)
    if name is not None and not 1 <= len(name.strip()) <= 200:
        check.add("name", "must be 1 to 200 characters")
        return None
    return name.strip() if name else name


def _choice(check: _Checker, path: str, value: Any, choices: tuple[str, ...]) -> str | None:
    text = check.string(path, value)
    if text is not None and text not in choices:
        check.add(path, f"{text!r} is not one of {', '.join(choices)}")
        return None
    return text


def _icon(check: _Checker, value: Any) -> str:
    if value in ("", None):
        return ""
    icon = check.string("icon", value)
    if icon is not None and not ICON_RE.match(icon):
        check.add("icon", f"{icon!r} must be the name of an .svg file beside the manifest")
        return ""
    return icon or ""


def _default_flavor(check: _Checker, value: Any, flavors: Collection[str] | None) -> str | None:
    if value is None:
        return None
    name = check.string("default_flavor", value)
    if name is not None and flavors is not None and name not in flavors:
        check.add("default_flavor", f"unknown flavor {name!r}")
        return None
    return name


def _user(check: _Checker, value: Any) -> dict | None:
    user = check.mapping("user", value)
    if user is None:
        return None
    check.unknown_fields("user", user, USER_FIELDS)
    normalised = {
        "name": check.string("user.name", user.get("name", _MISSING), pattern=USER_NAME_RE),
        "uid": _id_number(check, "user.uid", user.get("uid", _MISSING)),
        "gid": _id_number(check, "user.gid", user.get("gid", _MISSING)),
    }
    return normalised


def _id_number(check: _Checker, path: str, value: Any) -> int | None:
    number = check.integer(path, value, minimum=0, maximum=65535)
    if number == 0:
        check.add(path, "must not be 0: sandboxes never run as root")
        return None
    return number


def _absolute_path(check: _Checker, path: str, value: Any) -> str | None:
    text = check.string(path, value)
    if text is not None and (not text.startswith("/") or ".." in text.split("/")):
        check.add(path, f"{text!r} must be an absolute path")
        return None
    return text


def _capabilities(check: _Checker, value: Any) -> list[str]:
    items = check.sequence("capabilities", value)
    if items is None:
        return []
    result = []
    for index, item in enumerate(items):
        path = f"capabilities[{index}]"
        name = check.string(path, item)
        if name is None:
            continue
        name = name.upper().removeprefix("CAP_")
        if name not in ALLOWED_CAPABILITIES:
            check.add(path, f"{item!r} is not allowed (allowed: {', '.join(ALLOWED_CAPABILITIES)})")
        elif name not in result:
            result.append(name)
    return result


def _environment(check: _Checker, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    env = check.mapping("environment", value)
    if env is None:
        return {}
    result = {}
    for key, item in env.items():
        path = f"environment.{key}"
        if not isinstance(key, str) or not ENV_NAME_RE.match(key):
            check.add(path, "is not a valid variable name")
        elif key in RESERVED_ENV_NAMES or key.startswith(RESERVED_ENV_PREFIXES):
            check.add(path, "is reserved for the platform")
        elif (text := check.string(path, item)) is not None:
            result[key] = text
    return result


def _frameworks(check: _Checker, value: Any) -> list[str]:
    items = check.sequence("frameworks", value)
    if items is None:
        return []
    result = []
    for index, item in enumerate(items):
        name = _choice(check, f"frameworks[{index}]", item, FRAMEWORKS)
        if name is not None and name not in result:
            result.append(name)
    return result


def host_labels_problems(labels: Any) -> list[str]:
    """Host labels (on a host, asked for by an item or a user): short lowercase keys and plain
    values, so they are safe in Docker labels, URLs and log lines."""
    if not isinstance(labels, dict):
        return ["must be a mapping of label to value"]
    if len(labels) > MAX_HOST_LABELS:
        return [f"at most {MAX_HOST_LABELS} labels"]
    problems = []
    for key, value in labels.items():
        if not isinstance(key, str) or not HOST_LABEL_KEY_RE.match(key):
            problems.append(f"{key!r}: keys are 1-63 of a-z, 0-9, '.', '_', '-', '/'")
        elif not isinstance(value, str) or not HOST_LABEL_VALUE_RE.match(value):
            problems.append(f"{key}: values are 1-63 of letters, digits, '.', '_', '-'")
    return problems


def _host_labels(check: _Checker, value: Any) -> dict[str, str]:
    for problem in host_labels_problems(value if value is not None else {}):
        check.add("host_labels", problem)
    return dict(value) if isinstance(value, dict) else {}


def _roles(check: _Checker, value: Any) -> dict | None:
    roles = check.mapping("roles", value)
    if roles is None:
        return None
    if HEAD_ROLE not in roles:
        check.add("roles", f"a {HEAD_ROLE!r} role is required")
    result = {}
    for name, role in roles.items():
        path = f"roles.{name}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            check.add(path, f"role name does not match {NAME_RE.pattern}")
            continue
        result[name] = _role(check, path, role, is_head=name == HEAD_ROLE)
    return result


def _role(check: _Checker, path: str, value: Any, *, is_head: bool) -> dict | None:
    role = check.mapping(path, value)
    if role is None:
        return None
    check.unknown_fields(path, role, ROLE_FIELDS)
    low = check.integer(f"{path}.min_nodes", role.get("min_nodes", _MISSING), minimum=0)
    high = check.integer(f"{path}.max_nodes", role.get("max_nodes", _MISSING), minimum=1)
    default = check.integer(f"{path}.default_nodes", role.get("default_nodes", low), minimum=0)
    if is_head and low == 0:
        check.add(f"{path}.min_nodes", "must be >= 1: a sandbox always has a head node")
    if low is not None and high is not None and high < low:
        check.add(f"{path}.max_nodes", f"must be >= min_nodes ({low})")
    elif low is not None and high is not None and default is not None and not low <= default <= high:
        check.add(f"{path}.default_nodes", f"must be between min_nodes ({low}) and max_nodes ({high})")
    return {
        "min_nodes": low,
        "max_nodes": high,
        "default_nodes": default,
        "services": _services(check, f"{path}.services", role.get("services", [])),
        "healthcheck": _healthcheck(check, f"{path}.healthcheck", role.get("healthcheck", _MISSING)),
    }


def _services(check: _Checker, path: str, value: Any) -> list[dict]:
    items = check.sequence(path, value)
    if items is None:
        return []
    result, names, ports, mains = [], set(), set(), 0
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        service = check.mapping(item_path, item)
        if service is None:
            continue
        check.unknown_fields(item_path, service, SERVICE_FIELDS)
        name = check.string(f"{item_path}.name", service.get("name", _MISSING), pattern=NAME_RE)
        port = check.integer(f"{item_path}.port", service.get("port", _MISSING), minimum=1, maximum=65535)
        protocol = _choice(check, f"{item_path}.protocol", service.get("protocol", "http"), PROTOCOLS)
        url_path = check.string(f"{item_path}.path", service.get("path", ""))
        main = check.boolean(f"{item_path}.main", service.get("main", False))
        strip_prefix = check.boolean(f"{item_path}.strip_prefix", service.get("strip_prefix", False))
        wait = check.boolean(f"{item_path}.wait", service.get("wait", True))
        if name is not None and name in names:
            check.add(f"{item_path}.name", f"duplicate service name {name!r}")
        if port is not None and port in ports:
            check.add(f"{item_path}.port", f"port {port} is already used by another service of this role")
        if url_path and not url_path.startswith("/"):
            check.add(f"{item_path}.path", f"{url_path!r} must start with /")
        if url_path and protocol == "tcp":
            check.add(f"{item_path}.path", "must be empty for a tcp service")
        if strip_prefix and protocol == "tcp":
            check.add(f"{item_path}.strip_prefix", "only an http service is reached through the gateway")
        if main and wait is False:
            check.add(f"{item_path}.wait", "a node is ready only once its main service answers")
        names.add(name)
        ports.add(port)
        mains += bool(main)
        result.append(
            {
                "name": name,
                "port": port,
                "protocol": protocol,
                "path": url_path or "",
                "main": main,
                **({"strip_prefix": True} if strip_prefix else {}),
                **({"wait": False} if wait is False else {}),
            }
        )
    if mains > 1:
        check.add(path, f"at most one service may be main, not {mains}")
    return result


def _healthcheck(check: _Checker, path: str, value: Any) -> dict | None:
    healthcheck = check.mapping(path, value)
    if healthcheck is None:
        return None
    check.unknown_fields(path, healthcheck, ("test", *HEALTHCHECK_DEFAULTS))
    test = healthcheck.get("test", _MISSING)
    if test is _MISSING:
        check.add(f"{path}.test", "missing field")
    elif (
        not isinstance(test, list)
        or len(test) < 2
        or test[0] not in HEALTHCHECK_KINDS
        or not all(isinstance(part, str) and part for part in test)
    ):
        check.add(
            f"{path}.test", 'must be a list like ["CMD", "/path/to/check", ...] or ["CMD-SHELL", "..."]'
        )
        test = None
    result = {"test": test}
    for name, default in HEALTHCHECK_DEFAULTS.items():
        minimum = 0 if name == "start_period_s" else 1
        result[name] = check.integer(f"{path}.{name}", healthcheck.get(name, default), minimum=minimum)
    return result
