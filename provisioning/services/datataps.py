"""DataTaps: a tenant's shared data mounted in place at /data/<name> on every node, and the
site's allowlist of host path prefixes that hostpath DataTaps must lie under.

A bind mount hands a container whatever the path holds on the host, so the checks here are
strict: paths are absolute and normalised, never `/`, never a system tree or anything that
holds the Docker socket, and (where the portal's machine has the path) checked again after
resolving symlinks, so a link under an allowed prefix cannot point elsewhere.

A path can change after it was checked: the engine follows symlinks on the host each time it
starts a container. So the worker checks again right before every create and start, mounts the
resolved path, and verifies afterwards that the engine mounted that very directory; and no
hostpath DataTap may nest in one that nodes can write, where a node could swap it for a link."""

import ipaddress
import logging
import os
import re
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from provisioning.errors import InUse, InvalidRequest, NotFound
from provisioning.models import DataTap, Host, HostPathPrefix, Sandbox
from tenants.models import Tenant, User
from tenants.services.audit import audit_record

log = logging.getLogger(__name__)

#: Trees no DataTap may reach into or contain: the engine's state and socket (named first, so
#: that a refusal names them), the OS, and system state such as the portal's own database.
FORBIDDEN_TREES = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lost+found",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/sys",
    "/usr",
    "/var/backups",
    "/var/cache",
    "/var/lib",
    "/var/log",
    "/var/mail",
    "/var/run",
    "/var/spool",
    # people's homes (SSH keys, tokens, shell histories), and the folders the portal installs
    # itself in; the checkout, its state, the hosts' TLS keys and the engines' data roots
    # are added from settings in _site_trees
    "/home",
    "/opt/portal",
)
#: Folders that hold whatever anyone mounts there (other disks, backups, other services'
#: data): a dedicated folder inside one (/mnt/datasets) may be a prefix, the folder may not.
FORBIDDEN_AS_A_WHOLE = ("/media", "/mnt")
#: /lib, /lib32, /lib64, /libx32 and whatever else a distribution names so.
FORBIDDEN_TOP_LEVEL = re.compile(r"^/lib[^/]*(/|$)")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._@+/-]*$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)

#: NFS mount options a tenant admin may set: flags, and keys with the values they take. The
#: address is the DataTap's server and read-only its flag, so neither can be given here; nor
#: can ports (`port=`, `mountport=`), which would aim the host's mount at any service.
NFS_FLAGS = {
    "soft",
    "hard",
    "intr",
    "nointr",
    "noatime",
    "nodiratime",
    "relatime",
    "ac",
    "noac",
    "cto",
    "nocto",
    "lock",
    "nolock",
    "resvport",
    "noresvport",
    "nosuid",
    "nodev",
    "noexec",
}
_NUMBER = re.compile(r"^[0-9]{1,7}$")
NFS_VALUES = {
    "nfsvers": re.compile(r"^(3|4|4\.0|4\.1|4\.2)$"),
    "vers": re.compile(r"^(3|4|4\.0|4\.1|4\.2)$"),
    "proto": re.compile(r"^(tcp|tcp6|udp|udp6|rdma)$"),
    "sec": re.compile(r"^(sys|krb5|krb5i|krb5p)$"),
    "timeo": _NUMBER,
    "retrans": _NUMBER,
    "rsize": _NUMBER,
    "wsize": _NUMBER,
    "actimeo": _NUMBER,
    "acregmin": _NUMBER,
    "acregmax": _NUMBER,
    "acdirmin": _NUMBER,
    "acdirmax": _NUMBER,
}


# --- paths -------------------------------------------------------------------------------


def path_normalise(path: str, *, field: str) -> str:
    """An absolute path without `.`/`..` tricks, or InvalidRequest naming `field`."""
    path = (path or "").strip()
    if not path.startswith("/"):
        raise InvalidRequest({field: ["Give an absolute path, starting with /."]})
    if ".." in path.split("/"):
        raise InvalidRequest({field: ["The path may not contain `..`."]})
    if not SAFE_PATH.match(path):
        raise InvalidRequest({field: ["Use only letters, digits and . _ @ + - / in the path."]})
    # normpath keeps a leading "//" (POSIX allows it a meaning); nothing here needs one.
    return "/" + os.path.normpath(path).lstrip("/")


def _within(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def _site_trees() -> set[str]:
    """This site's own secrets: the sockets of the engines the platform drives (mounting one
    hands over the host), the engines' data roots, and the portal's code, settings and state
    (its checkout with var/, and the state folder with the hosts' TLS keys)."""
    urls = {settings.DOCKER_DEFAULT_URL, *Host.objects.values_list("url", flat=True)}
    sockets = {os.path.normpath(url.removeprefix("unix://")) for url in urls if url.startswith("unix://")}
    folders = {settings.BASE_DIR, settings.STATE_DIR, *settings.DOCKER_DATA_ROOTS}
    return sockets | {os.path.normpath(str(folder)) for folder in folders}


def path_forbidden_reason(path: str) -> str | None:
    """Why a normalised path may never be shared with a container, or None."""
    if path == "/":
        return "The root of the host's file system can never be allowed."
    for tree in (*FORBIDDEN_TREES, *sorted(_site_trees())):
        if path == tree:
            return f"{path} is a system path that can never be allowed."
        if _within(path, tree):
            return f"{path} lies in {tree}, a system path that can never be allowed."
        if _within(tree, path):
            return f"{path} contains {tree}, a system path that can never be allowed."
    if FORBIDDEN_TOP_LEVEL.match(path):
        return f"{path} lies in a system library tree that can never be allowed."
    if path in FORBIDDEN_AS_A_WHOLE:
        return f"{path} as a whole can never be allowed: name a dedicated folder inside it."
    return None


def _resolved(path: str) -> str:
    """The path with symlinks resolved, as far as it exists on the portal's machine; a host
    that is not this machine is trusted to lay out its paths like it."""
    return os.path.realpath(path)


def _check_allowed(path: str, *, field: str) -> None:
    for candidate in dict.fromkeys([path, _resolved(path)]):
        reason = path_forbidden_reason(candidate)
        if reason:
            raise InvalidRequest({field: [reason]})
        prefixes = list(HostPathPrefix.objects.values_list("path", flat=True))
        if not any(_within(candidate, prefix) for prefix in prefixes):
            allowed = ", ".join(prefixes) or "none yet; a site admin adds them"
            what = path if candidate == path else f"{path} (a link to {candidate})"
            raise InvalidRequest(
                {field: [f"{what} is not under a host path prefix the site allows ({allowed})."]}
            )


def _writable_overlap(path: str, *, read_only: bool, exclude_pk: int | None = None) -> str | None:
    """Why a hostpath DataTap at `path` would nest with another where one of them is writable
    by nodes (a node could then replace the inner directory by a symlink to anywhere), or None.
    Two DataTaps on the very same directory do not nest: a node cannot rename its mount point."""
    others = DataTap.objects.filter(kind=DataTap.Kind.HOSTPATH).exclude(pk=exclude_pk)
    if read_only:
        others = others.filter(read_only=False)
    for other in others.order_by("pk"):
        for mine, theirs in ((path, other.path), (_resolved(path), _resolved(other.path))):
            if mine != theirs and (_within(mine, theirs) or _within(theirs, mine)):
                inner, outer = (path, other.path) if _within(mine, theirs) else (other.path, path)
                writable, through = (
                    (other.path, f"DataTap {other.name!r}") if not other.read_only else (path, "this DataTap")
                )
                return (
                    f"{inner} lies in {outer}, and nodes can write to {writable} through {through}: "
                    f"a node could replace {inner} by a link to anywhere on the host. Choose "
                    "directories that do not nest."
                )
    return None


# --- the allowlist -----------------------------------------------------------------------


def hostpath_prefix_add(*, actor: User, path: str, ip: str | None = None) -> HostPathPrefix:
    path = path_normalise(path, field="path")
    for candidate in dict.fromkeys([path, _resolved(path)]):
        reason = path_forbidden_reason(candidate)
        if reason:
            raise InvalidRequest({"path": [reason]})
    try:
        with transaction.atomic():
            prefix = HostPathPrefix.objects.create(path=path, created_by=actor)
            audit_record(actor=actor, action="datatap_prefix.add", target=prefix, ip=ip)
    except IntegrityError as exc:
        raise InvalidRequest({"path": [f"{path} is already allowed."]}) from exc
    return prefix


@transaction.atomic
def hostpath_prefix_remove(*, actor: User, prefix: HostPathPrefix, ip: str | None = None) -> None:
    """Existing DataTaps under it stay, but no node mounts them any more: not a new sandbox,
    nor an existing one at its next start (the worker checks before every start)."""
    audit_record(actor=actor, action="datatap_prefix.remove", target=prefix, ip=ip)
    prefix.delete()


# --- DataTaps ----------------------------------------------------------------------------


def _address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an NFS server at `address` is refused, or None. The engine mounts from the host, so
    a loopback or link-local server is the host's own services (or the cloud's metadata
    service), not a file server of the tenant's."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return "is the host itself (loopback)"
    if address.is_link_local:
        return "is link-local (the host's own network segment, such as a cloud metadata service)"
    if address.is_multicast:
        return "is a multicast address"
    return None


def _nfs_server(server: str) -> str:
    """The server, normalised, unless it is (or its name resolves to) an address the hosts
    must never mount from. A name that does not resolve here is left to the hosts' resolver."""
    server = (server or "").strip()
    try:
        address = ipaddress.ip_address(server)
    except ValueError:
        address = None
    if address is not None:
        reason = _address_refusal(address)
        if reason:
            raise InvalidRequest({"server": [f"{server} {reason}: give the NFS server's own address."]})
        return str(address)
    if not HOSTNAME.match(server):
        raise InvalidRequest({"server": ["Give a host name or an IP address."]})
    server = server.lower()
    if server == "localhost" or server.endswith(".localhost"):
        raise InvalidRequest(
            {"server": [f"{server} is the host itself (loopback): give the NFS server's name."]}
        )
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(server, None)}
    except (OSError, UnicodeError):
        resolved = set()
    for found in sorted(resolved):
        reason = _address_refusal(ipaddress.ip_address(found.partition("%")[0]))
        if reason:
            raise InvalidRequest(
                {"server": [f"{server} resolves to {found}, which {reason}: give the NFS server's name."]}
            )
    return server


def nfs_options_clean(options: str) -> str:
    """The options, checked one by one against what a tenant may set."""
    options = (options or "").strip()
    if not options:
        return ""
    problems, clean = [], []
    for option in options.split(","):
        key, sep, value = option.strip().partition("=")
        if not sep and key in NFS_FLAGS:
            clean.append(key)
        elif sep and key in NFS_VALUES and NFS_VALUES[key].match(value):
            clean.append(f"{key}={value}")
        elif key in ("addr", "ro", "rw"):
            problems.append(f"{key!r} is set from the DataTap's server and read-only flag.")
        else:
            problems.append(f"{option.strip()!r} is not an NFS option DataTaps allow.")
    if problems:
        allowed = ", ".join(sorted(NFS_FLAGS | {f"{k}=..." for k in NFS_VALUES}))
        raise InvalidRequest({"options": [*problems, f"Allowed: {allowed}."]})
    return ",".join(clean)


def datatap_create(
    *,
    actor: User,
    tenant: Tenant,
    name: str,
    kind: str,
    read_only: bool = True,
    path: str = "",
    server: str = "",
    export: str = "",
    options: str = "",
    ip: str | None = None,
) -> DataTap:
    fields = {"path": "", "server": "", "export": "", "options": ""}
    if kind == DataTap.Kind.HOSTPATH:
        if server or export or options:
            raise InvalidRequest(
                {"kind": ["A hostpath DataTap takes a path, not server, export or options."]}
            )
        fields["path"] = path_normalise(path, field="path")
        _check_allowed(fields["path"], field="path")
        if overlap := _writable_overlap(fields["path"], read_only=read_only):
            raise InvalidRequest({"path": [overlap]})
    elif kind == DataTap.Kind.NFS:
        if path:
            raise InvalidRequest({"path": ["An NFS DataTap takes server, export and options, not a path."]})
        errors = {}
        for field, clean in (
            ("server", lambda: _nfs_server(server)),
            ("export", lambda: path_normalise(export, field="export")),
            ("options", lambda: nfs_options_clean(options)),
        ):
            try:
                fields[field] = clean()
            except InvalidRequest as exc:
                errors.update(exc.fields)
        if errors:
            raise InvalidRequest(errors)
    else:
        raise InvalidRequest({"kind": [f"Choose one of: {', '.join(DataTap.Kind.values)}."]})
    try:
        with transaction.atomic():
            datatap = DataTap(
                tenant=tenant, name=name, kind=kind, read_only=read_only, created_by=actor, **fields
            )
            try:
                datatap.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                raise InvalidRequest(exc.message_dict) from exc
            datatap.save()
            audit_record(
                actor=actor,
                action="datatap.create",
                tenant=tenant,
                target=datatap,
                ip=ip,
                detail={"kind": kind, "read_only": read_only, **{k: v for k, v in fields.items() if v}},
            )
    except IntegrityError as exc:
        if "unique_datatap_name_per_tenant" in str(exc):
            raise InvalidRequest(
                {"name": [f"A DataTap named {name!r} already exists in this tenant."]}
            ) from exc
        raise
    return datatap


def datatap_delete(*, actor: User, datatap: DataTap, ip: str | None = None) -> None:
    """Refused while a sandbox that is not deleted names it: it mounts it again on start."""
    with transaction.atomic():
        # Locked: a sandbox_create naming it waits for this, or this waits for that.
        datatap = DataTap.objects.select_for_update().select_related("tenant").get(pk=datatap.pk)
        users = list(datatap.sandboxes.live().order_by("name").values_list("name", flat=True))
        if users:
            raise InUse(
                f"DataTap {datatap.name!r} is used by {_plural(len(users), 'sandbox', 'sandboxes')} "
                f"{', '.join(users)}; delete {'it' if len(users) == 1 else 'them'} first.",
                sandboxes=users,
            )
        audit_record(actor=actor, action="datatap.delete", tenant=datatap.tenant, target=datatap, ip=ip)
        datatap.delete()


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# --- mounting ----------------------------------------------------------------------------


def datataps_for_sandbox(*, owner: User, tenant: Tenant, names: list[str]) -> list[DataTap]:
    """The named DataTaps of the tenant, locked until the caller's transaction ends so none is
    deleted under a sandbox being created. Another tenant's names are simply not found."""
    names = list(dict.fromkeys(names or []))
    if not names:
        return []
    found = {
        d.name: d
        for d in DataTap.objects.visible_to(owner).filter(tenant=tenant, name__in=names).select_for_update()
    }
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(
            f"No DataTap {', '.join(repr(n) for n in missing)} in tenant {tenant.slug!r}.",
            fields={"datataps": [f"No DataTap {n!r} in tenant {tenant.slug!r}." for n in missing]},
        )
    taps = [found[n] for n in names]
    for tap in taps:
        if tap.kind == DataTap.Kind.HOSTPATH:
            try:
                _check_allowed(tap.path, field="datataps")
            except InvalidRequest as exc:
                raise InvalidRequest(
                    {"datataps": [f"DataTap {tap.name!r}: {m}" for m in exc.fields["datataps"]]}
                ) from exc
            if overlap := _writable_overlap(tap.path, read_only=tap.read_only, exclude_pk=tap.pk):
                raise InvalidRequest({"datataps": [f"DataTap {tap.name!r}: {overlap}"]})
    return taps


#: What an engine's mount error means, in words a tenant can act on. The engine's own text
#: names host paths (its volume folders) and the mount's options, so it goes to the log only.
MOUNT_FAILURE_CAUSES = (
    (
        ("timed out", "no route to host", "connection refused", "network is unreachable", "unknown host"),
        "the server did not answer",
    ),
    (("permission denied", "access denied", "operation not permitted"), "access was denied"),
    (("no such file or directory", "does not exist", "not found"), "it does not exist"),
)


class DataTapRefused(Exception):
    """A hostpath DataTap failed its checks right before a container was made or started; the
    message says why, fit for a user."""


@dataclass(frozen=True)
class CheckedSource:
    """A hostpath DataTap's directory as checked: its resolved path (what is mounted) and, where
    the portal's machine has it, its device and inode (what must be mounted)."""

    path: str
    identity: tuple[int, int] | None


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None  # not on this machine: the engine's own mount reports the error
    return info.st_dev, info.st_ino


def datatap_sources_check(sandbox: Sandbox) -> dict[int, CheckedSource]:
    """The sandbox's hostpath DataTaps resolved and checked now, by DataTap id: called by the
    worker right before it creates or starts a container, which then mounts these paths."""
    checked = {}
    for tap in sandbox.datataps.filter(kind=DataTap.Kind.HOSTPATH).order_by("name"):
        resolved = _resolved(tap.path)
        try:
            _check_allowed(tap.path, field="path")
        except InvalidRequest as exc:
            raise DataTapRefused(f"DataTap {tap.name!r} was not mounted: {exc.fields['path'][0]}") from exc
        if overlap := _writable_overlap(tap.path, read_only=tap.read_only, exclude_pk=tap.pk):
            raise DataTapRefused(f"DataTap {tap.name!r} was not mounted: {overlap}")
        checked[tap.pk] = CheckedSource(path=resolved, identity=_identity(resolved))
    return checked


def datatap_mounts_verify(sandbox: Sandbox, checked: dict[int, CheckedSource], binds: dict[str, str]) -> None:
    """After a start: the engine bound each hostpath DataTap from the path that was checked
    (`binds` maps a mount target to its source, as the engine reports them), and that path is
    still the directory that was checked, not one swapped in meanwhile."""
    for tap in sandbox.datataps.filter(kind=DataTap.Kind.HOSTPATH).order_by("name"):
        source = checked[tap.pk]
        mounted = binds.get(tap.mount_target)
        if mounted != source.path:
            raise DataTapRefused(
                f"DataTap {tap.name!r}: the engine mounted {mounted or 'nothing'} at {tap.mount_target}, "
                f"not the checked directory {source.path}."
            )
        if _resolved(source.path) != source.path or _identity(source.path) != source.identity:
            raise DataTapRefused(
                f"DataTap {tap.name!r}: {tap.path} changed while the node started (it was replaced, "
                "perhaps by a link), so what got mounted is not what was checked."
            )


def sandbox_mount_failure(sandbox: Sandbox, message: str) -> str | None:
    """A plain-language explanation when an engine error is a DataTap that did not mount; it
    names the DataTap as the tenant made it, never the engine's paths or options."""
    lowered = message.lower()
    for tap in sandbox.datataps.all():
        sources = (
            [sandbox.datatap_volume(tap)] if tap.kind == DataTap.Kind.NFS else [tap.path, _resolved(tap.path)]
        )
        if any(source in message for source in sources):
            log.warning("DataTap %s of sandbox %s did not mount: %s", tap.pk, sandbox.pk, message)
            where = f"NFS export {tap.server}:{tap.export}" if tap.kind == DataTap.Kind.NFS else tap.path
            cause = next(
                (words for needles, words in MOUNT_FAILURE_CAUSES if any(n in lowered for n in needles)),
                "the engine refused the mount (the portal's log has its answer)",
            )
            return f"DataTap {tap.name!r} ({where}) could not be mounted at {tap.mount_target}: {cause}."
    return None
