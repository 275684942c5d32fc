# The benchmarks use the same real-service fixtures as the provisioning tests.
from tests.provisioning.conftest import docker_client, published, team  # noqa: F401
