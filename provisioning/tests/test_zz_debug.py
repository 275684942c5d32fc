import collections
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from provisioning.tests.test_lifecycle_stateful import SandboxLifecycle
from provisioning.models import Sandbox

SEEN = collections.Counter()
RULES = collections.Counter()

class Debug(SandboxLifecycle):
    def teardown(self):
        for s in Sandbox.objects.filter(tenant=self.tenant):
            SEEN[s.status] += 1

for name in ["create","stop","start","resize","delete","advance","reconcile","host_down"]:
    pass

@pytest.mark.django_db
def test_debug(cluster_item):
    run_state_machine_as_test(Debug, settings=settings(max_examples=30, stateful_step_count=30, deadline=None, database=None))
    print(SEEN)
