"""Services of a tenant that apps above provisioning run (the tracking server of tracking/) and
that a sandbox's nodes use. Such an app registers an extension here when it starts (its
AppConfig.ready), as container backends register with provisioning.drivers, so that provisioning
never imports it: the create operation lets each extension join the sandbox's network, and each
node's spec takes the environment and secret files the extensions give it. A warm pool's node
was started before any tenant claimed it, so a sandbox whose nodes such a service equips at
creation declines the pool (`pool_refusal`) and starts cold."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeAdditions:
    environment: dict[str, str] = field(default_factory=dict)
    secret_files: dict[str, str] = field(default_factory=dict)  # into /run/sandbox-secrets


class SandboxExtension(ABC):
    @abstractmethod
    def node_additions(self, *, node) -> NodeAdditions:
        """What `node` gets from this service; derived from rows only (a retry or the reconciler
        makes the same node again), and nothing when the service is not there for it."""

    def pool_refusal(self, *, sandbox) -> str:
        """Why none of the warm pool's nodes may become this sandbox's node, as a short reason
        code counted with the pool's misses ("" when one may). A pooled node's environment was
        fixed when it started, before any tenant: a service that gives a tenant's nodes
        environment at creation refuses, so that the launch starts cold and gets it."""
        return ""

    @abstractmethod
    def sandbox_network_ready(self, *, sandbox, host, network: str) -> None:
        """The sandbox's network exists on `host`: the service may join it. Must not raise: a
        sandbox starts without a tenant service that fails (the service's own reconcile pass
        joins the networks it missed)."""


_EXTENSIONS: list[SandboxExtension] = []


def register_sandbox_extension(extension: SandboxExtension) -> None:
    if not any(type(known) is type(extension) for known in _EXTENSIONS):
        _EXTENSIONS.append(extension)


def sandbox_extensions() -> tuple[SandboxExtension, ...]:
    return tuple(_EXTENSIONS)
