from tests.notebooks.conftest import (  # noqa: F401 - fixtures
    cluster_item,
    engine,
    fake_host,
    member,
    notebook,
    notebook_item,
    people,
    small,
    tenant,
)
from tests.provisioning.conftest import docker_client, published  # noqa: F401 - fixtures
