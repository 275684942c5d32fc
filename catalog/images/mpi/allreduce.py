"""An MPI all-reduce across every process of an mpirun: each rank adds its rank + 1, each
checks the sum, and rank 0 prints where the ranks ran and one line
`SANDBOX_MPI_RESULT {json}`.

    mpirun -np 4 -H head-0:2,worker-0:2 python /opt/sandbox/allreduce.py
    mpirun -np 2 --hostfile "$SANDBOX_HOSTFILE" python /opt/sandbox/allreduce.py   (in a job)
"""

import json
import socket
import sys

import numpy as np
from mpi4py import MPI

RESULT_MARK = "SANDBOX_MPI_RESULT"


def main() -> int:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    total = np.zeros(1)
    comm.Allreduce(np.array([rank + 1.0]), total, op=MPI.SUM)
    expected = size * (size + 1) / 2
    hosts = comm.gather(socket.gethostname(), root=0)
    if total[0] != expected:
        print(f"rank {rank}: all-reduce gave {total[0]}, not {expected}", file=sys.stderr, flush=True)
        return 1
    if rank == 0:
        result = {
            "size": size,
            "sum": total[0],
            "hosts": hosts,
            "mpi": MPI.Get_library_version().strip("\x00 \n"),
        }
        print(f"{RESULT_MARK} {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
