"""The portal warm case of the launch benchmark: before each measurement, a pool of exactly the
nodes the measurement claims is made and waited for (not timed: a pool is ready before anyone
launches); after it, the pool is emptied and its refills removed, so that no pooled node starts
while another case is measured."""

import time

from provisioning.models import PoolNode
from provisioning.services.pools import pool_set
from provisioning.states import POOL_HOLDS_HOST, PoolNodeStatus

TIMEOUT_S = 900


class WarmPool:
    def __init__(self, *, admin, item: str, flavor: str):
        self.admin, self.item, self.flavor = admin, item, flavor

    def around(self, count: int, measure) -> float:
        """`count` ready pooled nodes, then `measure()` (its seconds), then no pool."""
        self.fill(count)
        try:
            return measure()
        finally:
            self.empty()

    def fill(self, count: int) -> None:
        pool_set(actor=self.admin, catalog_item=self.item, flavor=self.flavor, size=count)
        self._wait(
            lambda live: live.get(PoolNodeStatus.READY, 0) == count and len(live) == 1, f"{count} ready"
        )

    def empty(self) -> None:
        pool_set(actor=self.admin, catalog_item=self.item, flavor=self.flavor, size=0)
        self._wait(lambda live: not live, "none")

    def _wait(self, done, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            live = {}
            for status in PoolNode.objects.filter(status__in=POOL_HOLDS_HOST).values_list(
                "status", flat=True
            ):
                live[status] = live.get(status, 0) + 1
            if done(live):
                return
            time.sleep(0.2)
        raise TimeoutError(f"the warm pool did not reach {what} pooled nodes in time")
