"""The mpi app: mpirun on the head node starts ranks on the head and a worker over the sandbox's
SSH (port 2222, the sandbox's own key), and mpi4py's all-reduce adds across the containers."""

import json

import pytest

from tests.apps.conftest import by_node, job_log, running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARK = "SANDBOX_MPI_RESULT "


def mpi_result(job) -> dict:
    lines = [line for line in by_node(job)["head-0"]["log"].splitlines() if line.startswith(MARK)]
    assert lines, by_node(job)["head-0"]["log"]
    return json.loads(lines[-1].removeprefix(MARK))


def test_mpirun_from_the_head_runs_ranks_on_every_node(team, published, celery_worker_process, docker_client):
    _tenant, _user, client = team
    published("mpi")
    with running_cluster(client, docker_client, "mpi", workers=1) as sandbox:
        # The seed's command: two ranks on each node, named on the command line.
        seeded = job_log(
            client, sandbox["id"], "mpirun -np 4 -H head-0:2,worker-0:2 python /opt/sandbox/allreduce.py"
        )
        result = mpi_result(seeded)
        assert (result["size"], result["sum"]) == (4, 10.0)
        assert sorted(result["hosts"]) == ["head-0", "head-0", "worker-0", "worker-0"]
        assert "Open MPI" in result["mpi"]

        # The job's hostfile (a node a line, its CPUs as slots) serves mpirun as it is.
        hostfile = job_log(
            client,
            sandbox["id"],
            'cat "$SANDBOX_HOSTFILE"; '
            'mpirun -np 2 --hostfile "$SANDBOX_HOSTFILE" python /opt/sandbox/allreduce.py',
        )
        assert by_node(hostfile)["head-0"]["log"].startswith("head-0 slots=1\nworker-0 slots=1\n")
        result = mpi_result(hostfile)
        assert (result["size"], sorted(result["hosts"])) == (2, ["head-0", "worker-0"])

        # In a job it is mpirun's default hostfile: no host list needed.
        default = job_log(client, sandbox["id"], "mpirun -np 2 python /opt/sandbox/allreduce.py")
        assert sorted(mpi_result(default)["hosts"]) == ["head-0", "worker-0"]
