"""The framework environment a job's processes and a sandbox's containers get, as the image's
manifest names its frameworks: TF_CONFIG, the MPI hostfile, the Spark master and the Dask
scheduler, made from the sandbox's nodes (provisioning.frameworks)."""

import json

import pytest

from catalog.models import CatalogItem
from provisioning.models import Job, JobStatus
from provisioning.services.jobs import job_advance, job_create
from provisioning.services.sandboxes import sandbox_resize
from provisioning.tests.conftest import cluster_manifest
from provisioning.tests.doubles import JobProcesses, node_container
from provisioning.tests.lifecycle import create, run
from provisioning.tests.services.test_jobs import launches, prepared_hostfiles

TORCH_NAMES = {"MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "NODE_RANK", "RANK", "LOCAL_RANK"}


def frameworks_item(frameworks, slug="fw") -> CatalogItem:
    source = CatalogItem.objects.get(slug="cluster")
    return CatalogItem.objects.create(
        slug=slug,
        name=slug,
        version="1",
        category="training",
        default_flavor=source.default_flavor,
        manifest={**cluster_manifest(slug), "frameworks": frameworks},
    )


@pytest.fixture
def every_framework(member, tenant, cluster_item, engine):
    """A running head + 2 workers sandbox of an image with TensorFlow, MPI, Spark and Dask."""
    frameworks_item(["tensorflow", "mpi", "spark", "dask"])
    sandbox, operation = create(member, tenant, catalog_item="fw")
    run(operation)
    sandbox.refresh_from_db()
    return sandbox


def test_each_job_node_gets_tf_config_with_its_index_and_the_cluster_head_services(
    member, every_framework, engine
):
    JobProcesses(engine)
    job = job_create(sandbox=every_framework, actor=member, command="python train.py")
    job_advance(job_id=job.pk)
    job.refresh_from_db()

    started = launches(engine)
    tf_port = job.master_port + 1000
    workers = [f"head-0:{tf_port}", f"worker-0:{tf_port}", f"worker-1:{tf_port}"]
    for index, name in enumerate(["head-0", "worker-0", "worker-1"]):
        env = started[name]["environment"]
        assert json.loads(env["TF_CONFIG"]) == {
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": index},
        }
        assert env["SPARK_MASTER_URL"] == "spark://head-0:7077"
        assert env["DASK_SCHEDULER_ADDRESS"] == "tcp://head-0:8786"
        # mpirun with no --hostfile finds the cluster: the job's own hostfile.
        assert env["OMPI_MCA_orte_default_hostfile"] == env["SANDBOX_HOSTFILE"] == f"{job.workdir}/hostfile"
        # torch is not among this image's frameworks: none of its variables.
        assert not TORCH_NAMES & set(env)
    # The hostfile is `mpirun --hostfile` syntax: a node a line with its slots (CPUs here).
    assert prepared_hostfiles(engine) == {"head-0 slots=1\nworker-0 slots=1\nworker-1 slots=1\n"}


def test_a_job_on_the_workers_counts_its_own_nodes_but_keeps_the_head_services(
    member, every_framework, engine
):
    JobProcesses(engine)
    job_advance(job_id=job_create(sandbox=every_framework, actor=member, command="x", target="worker").pk)
    started = launches(engine)
    assert sorted(started) == ["worker-0", "worker-1"]
    configs = [json.loads(started[n]["environment"]["TF_CONFIG"]) for n in ("worker-0", "worker-1")]
    assert [c["task"]["index"] for c in configs] == [0, 1]
    assert [h.split(":")[0] for h in configs[0]["cluster"]["worker"]] == ["worker-0", "worker-1"]
    assert {started[n]["environment"]["SPARK_MASTER_URL"] for n in started} == {"spark://head-0:7077"}


def test_a_resized_cluster_gives_the_next_job_the_new_tf_config(member, every_framework, engine):
    JobProcesses(engine)
    first = job_create(sandbox=every_framework, actor=member, command="x")
    job_advance(job_id=first.pk)
    Job.objects.filter(pk=first.pk).update(status=JobStatus.SUCCEEDED)
    run(sandbox_resize(sandbox=every_framework, actor=member, nodes={"worker": 1}))
    engine.execs.clear()

    job_advance(job_id=job_create(sandbox=every_framework, actor=member, command="x").pk)
    started = launches(engine)
    assert sorted(started) == ["head-0", "worker-0"]
    assert len(json.loads(started["worker-0"]["environment"]["TF_CONFIG"])["cluster"]["worker"]) == 2


def test_containers_get_the_head_services_but_never_tf_config(member, every_framework, engine):
    for name in ("head-0", "worker-0", "worker-1"):
        env = engine.containers[node_container(every_framework, name)]["spec"].environment
        # A Spark worker or Dask worker service connects with these when the node starts.
        assert env["SPARK_MASTER_URL"] == "spark://head-0:7077"
        assert env["DASK_SCHEDULER_ADDRESS"] == "tcp://head-0:8786"
        # In a container's environment TF_CONFIG would make every TensorFlow program, a
        # notebook's included, wait for the whole cluster.
        assert "TF_CONFIG" not in env
        assert not TORCH_NAMES & set(env)


def test_an_image_without_the_field_keeps_the_torch_environment(member, cluster, engine):
    JobProcesses(engine)
    job_advance(job_id=job_create(sandbox=cluster, actor=member, command="x").pk)
    env = launches(engine)["worker-1"]["environment"]
    assert (env["MASTER_ADDR"], env["WORLD_SIZE"], env["RANK"], env["LOCAL_RANK"]) == (
        "head-0",
        "3",
        "2",
        "0",
    )
    assert not {
        "TF_CONFIG",
        "SPARK_MASTER_URL",
        "DASK_SCHEDULER_ADDRESS",
        "OMPI_MCA_orte_default_hostfile",
    } & set(env)
    spec = engine.containers[node_container(cluster, "worker-1")]["spec"].environment
    assert (spec["MASTER_ADDR"], spec["MASTER_PORT"], spec["RANK"]) == ("head-0", "29500", "2")


def test_every_node_knows_the_heads_gateway_path(member, every_framework, engine):
    head = every_framework.nodes.get(role="head")
    for name in ("head-0", "worker-0", "worker-1"):
        env = engine.containers[node_container(every_framework, name)]["spec"].environment
        # A worker's pages that the head's Spark master proxies link under the head's path.
        assert env["SANDBOX_HEAD_GATEWAY_PREFIX"] == head.gateway_prefix
    worker = every_framework.nodes.get(role="worker", index=0)
    assert (
        engine.containers[node_container(every_framework, "worker-0")]["spec"].environment[
            "SANDBOX_GATEWAY_PREFIX"
        ]
        == worker.gateway_prefix
        != head.gateway_prefix
    )
