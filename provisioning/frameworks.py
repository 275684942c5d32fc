"""The variables each distributed framework reads to find its cluster, made from a sandbox's
nodes. A manifest names its frameworks (`frameworks: [torch, mpi, ...]`, catalog.manifest); a
node gets the cluster-wide addresses when its container starts (the role services of an image,
such as a Spark worker, connect with them), and each process of a job gets the whole set made
from the job's nodes as they are at its launch, so a job after a resize sees the new cluster.

Pure: names and numbers in, variables out.

| framework  | container                        | job, besides                                  |
|------------|----------------------------------|-----------------------------------------------|
| torch      | MASTER_ADDR/PORT, WORLD_SIZE,    | the same for the job's nodes, LOCAL_RANK      |
|            | NODE_RANK, RANK                  |                                               |
| tensorflow | -                                | TF_CONFIG: every job node a worker, this      |
|            |                                  | node's index                                  |
| mpi        | -                                | OMPI_MCA_orte_default_hostfile (mpirun finds  |
|            |                                  | the cluster without --hostfile)               |
| spark      | SPARK_MASTER_URL                 | the same                                      |
| dask       | DASK_SCHEDULER_ADDRESS           | the same                                      |

Every job also gets SANDBOX_HOSTFILE (provisioning.services.jobs) whatever the frameworks.
TF_CONFIG is for jobs only: in a container's environment every TensorFlow program, a notebook
kernel's too, would wait for the whole cluster to join it.
"""

import json
from collections.abc import Collection, Sequence

#: The torch.distributed rendezvous port of the head node; each job takes one above it.
MASTER_PORT = 29500
#: The Spark standalone master's and the Dask scheduler's ports on the head node: the
#: frameworks' own defaults, which the images' role services keep.
SPARK_MASTER_PORT = 7077
DASK_SCHEDULER_PORT = 8786
#: A job's TensorFlow servers listen this far above the job's MASTER_PORT, so that a job may
#: use both and a cancelled job's servers do not hold the next job's port.
TF_PORT_OFFSET = 1000


def node_framework_environment(
    *, frameworks: Collection[str], head: str, hostname: str, world: Sequence[str]
) -> dict[str, str]:
    """A container's variables: `head` is the head node's hostname, `world` every node's
    hostname in rank order (head first) as the sandbox is at the container's start."""
    env = {}
    if "torch" in frameworks:
        rank = world.index(hostname)
        env |= {
            "MASTER_ADDR": head,
            "MASTER_PORT": str(MASTER_PORT),
            "WORLD_SIZE": str(len(world)),
            "NODE_RANK": str(rank),
            "RANK": str(rank),  # one process per node
        }
    return env | _head_services(frameworks, head)


def job_framework_environment(
    *,
    frameworks: Collection[str],
    head: str,
    job_nodes: Sequence[str],
    rank: int,
    port: int,
    hostfile: str,
) -> dict[str, str]:
    """One job process's variables: `job_nodes` are the hostnames the job runs on in rank order,
    `rank` this process's place among them, `port` the job's own rendezvous port and `hostfile`
    the path of the job's hostfile in the node."""
    env = {}
    if "torch" in frameworks:
        env |= {
            "MASTER_ADDR": job_nodes[0],
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(len(job_nodes)),
            "NODE_RANK": str(rank),
            "RANK": str(rank),
            "LOCAL_RANK": "0",
        }
    if "tensorflow" in frameworks:
        # All workers, no chief: MultiWorkerMirroredStrategy makes worker 0 the chief.
        cluster = {"worker": [f"{name}:{port + TF_PORT_OFFSET}" for name in job_nodes]}
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": rank}})
    if "mpi" in frameworks:
        env["OMPI_MCA_orte_default_hostfile"] = hostfile
    return env | _head_services(frameworks, head)


def _head_services(frameworks: Collection[str], head: str) -> dict[str, str]:
    env = {}
    if "spark" in frameworks:
        env["SPARK_MASTER_URL"] = f"spark://{head}:{SPARK_MASTER_PORT}"
    if "dask" in frameworks:
        # distributed.Client() with no address connects to it (Dask reads DASK_* as its config).
        env["DASK_SCHEDULER_ADDRESS"] = f"tcp://{head}:{DASK_SCHEDULER_PORT}"
    return env
