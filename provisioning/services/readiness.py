"""When a node counts as ready: its healthcheck passed. One definition, for the operations
that bring nodes up and for the reconciler that watches them."""

from provisioning.drivers import ContainerState, DriverError, NodeSpec


def node_ready(*, driver, spec: NodeSpec, state: ContainerState) -> bool:
    """The engine runs a node's healthcheck only every interval (2 s, say), so a node that is
    up early waits for the engine's next tick. While the engine still says "starting", running
    the same check ourselves reports a ready node as soon as it is, which is most of what
    separates a click from a usable notebook."""
    if state.ready:
        return True
    if not (state.running and state.health == "starting" and spec.healthcheck):
        return False
    kind, *args = spec.healthcheck.test
    command = {"CMD": args, "CMD-SHELL": ["/bin/sh", "-c", " ".join(args)]}.get(kind)
    if not command:
        return False
    try:
        return driver.exec_start(name=spec.name, command=command, user=spec.user).exit_code == 0
    except DriverError:
        return False  # not up enough to run it yet: the next look, or the engine, decides
