# The real-Docker fixtures of the provisioning tests.
from tests.provisioning.conftest import docker_client, published, team  # noqa: F401
