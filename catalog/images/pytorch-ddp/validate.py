"""The sandbox's validation job: proves that the nodes train together.

Run once per node (the portal's jobs do that) with MASTER_ADDR, MASTER_PORT, WORLD_SIZE and
NODE_RANK in the environment. On a node with GPUs it starts one process per GPU and uses NCCL;
without GPUs one process per node uses gloo on the CPU. It measures all-reduce latency and
bandwidth across every process, then trains a small model with DistributedDataParallel on data
read from --data (a CSV whose last column is the target, or a .pt file holding x and y) or, when
none is given, generated here. Rank 0 prints one line `SANDBOX_VALIDATION_RESULT {json}` that the
portal keeps; a loss that does not go down makes the job fail.
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

RESULT_MARK = "SANDBOX_VALIDATION_RESULT"
LATENCY_ITERATIONS = 50
BANDWIDTH_BYTES = (1 << 20, 16 << 20)
BANDWIDTH_ITERATIONS = 5
SAMPLES, FEATURES, CLASSES = 2048, 16, 4
# Workers that cannot reach the master within this fail the job instead of hanging it.
RENDEZVOUS_TIMEOUT = datetime.timedelta(seconds=120)


def log(rank: int, message: str) -> None:
    print(f"[rank {rank}] {message}", flush=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def allreduce_latency(device: torch.device) -> float:
    """Microseconds for one all-reduce of a single float (mean over the iterations)."""
    tensor = torch.ones(1, device=device)
    for _ in range(5):
        dist.all_reduce(tensor)
    sync(device)
    start = time.perf_counter()
    for _ in range(LATENCY_ITERATIONS):
        dist.all_reduce(tensor)
    sync(device)
    return (time.perf_counter() - start) / LATENCY_ITERATIONS * 1e6


def allreduce_bandwidth(device: torch.device, size_bytes: int, world: int) -> dict:
    """Algorithm and bus bandwidth (GB/s) as nccl-tests define them: bus bandwidth scales the
    algorithm bandwidth by 2(n-1)/n, what a ring moves per process, so it compares across sizes."""
    tensor = torch.ones(size_bytes // 4, dtype=torch.float32, device=device)
    dist.all_reduce(tensor)
    sync(device)
    start = time.perf_counter()
    for _ in range(BANDWIDTH_ITERATIONS):
        dist.all_reduce(tensor)
    sync(device)
    seconds = (time.perf_counter() - start) / BANDWIDTH_ITERATIONS
    algbw = size_bytes / seconds / 1e9
    return {
        "bytes": size_bytes,
        "time_ms": round(seconds * 1e3, 3),
        "algbw_gbps": round(algbw, 4),
        "busbw_gbps": round(algbw * 2 * (world - 1) / world, 4),
    }


def load_data(path: str | None) -> tuple[torch.Tensor, torch.Tensor, str]:
    if not path:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(SAMPLES, FEATURES, generator=generator)
        weights = torch.randn(FEATURES, CLASSES, generator=generator)
        y = (x @ weights).argmax(dim=1)
        return x, y, "generated"
    source = Path(path)
    if source.is_dir():
        files = sorted([*source.glob("*.pt"), *source.glob("*.csv")])
        if not files:
            raise SystemExit(f"{source} holds no .pt or .csv file to train on")
        source = files[0]
    if source.suffix == ".pt":
        data = torch.load(source, weights_only=True)
        x, y = data["x"].float(), data["y"].long()
    else:
        rows = [
            [float(v) for v in line.split(",")]
            for line in source.read_text().splitlines()
            if line.strip() and not line[0].isalpha()  # skip a header line
        ]
        table = torch.tensor(rows)
        x, y = table[:, :-1], table[:, -1].long()
    return x, y, str(source)


def train(device: torch.device, rank: int, world: int, data: str | None, epochs: int) -> dict:
    x, y, origin = load_data(data)
    torch.manual_seed(0)  # the same initial weights everywhere; DDP also broadcasts rank 0's
    classes = int(y.max()) + 1
    model = nn.Sequential(nn.Linear(x.shape[1], 32), nn.ReLU(), nn.Linear(32, classes)).to(device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    dataset = TensorDataset(x, y)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=64, sampler=sampler)
    losses = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        total = torch.zeros(2, device=device)
        for features, target in loader:
            features, target = features.to(device), target.to(device)
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(ddp(features), target)
            loss.backward()
            optimizer.step()
            total += torch.stack(
                [loss.detach() * len(target), torch.tensor(float(len(target)), device=device)]
            )
        dist.all_reduce(total)  # the epoch's mean loss over every process's samples
        losses.append(round((total[0] / total[1]).item(), 5))
        log(rank, f"epoch {epoch + 1}/{epochs}: loss {losses[-1]}")
    return {"data": origin, "samples": len(dataset), "epochs": epochs, "losses": losses}


def run(local_rank: int, local_size: int, args: argparse.Namespace) -> None:
    node_rank = int(os.environ["NODE_RANK"])
    nodes = int(os.environ["WORLD_SIZE"])
    rank, world = node_rank * local_size + local_rank, nodes * local_size
    use_gpu = local_size > 0 and torch.cuda.is_available()
    if use_gpu:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    backend = "nccl" if use_gpu else "gloo"
    log(
        rank,
        f"joining {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} as {rank} of {world} ({backend})",
    )
    dist.init_process_group(
        backend=backend, init_method="env://", rank=rank, world_size=world, timeout=RENDEZVOUS_TIMEOUT
    )
    try:
        latency = allreduce_latency(device)
        log(rank, f"all-reduce latency {latency:.1f} us")
        bandwidth = [allreduce_bandwidth(device, size, world) for size in BANDWIDTH_BYTES]
        for line in bandwidth:
            log(
                rank,
                f"all-reduce {line['bytes']} B: {line['algbw_gbps']} GB/s (bus {line['busbw_gbps']} GB/s)",
            )
        training = train(device, rank, world, args.data, args.epochs)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    losses = training["losses"]
    if rank == 0:
        result = {
            "backend": backend,
            "world_size": world,
            "nodes": nodes,
            "allreduce_latency_us": round(latency, 2),
            "allreduce_bandwidth": bandwidth,
            **training,
            "loss_first": losses[0],
            "loss_last": losses[-1],
        }
        print(f"{RESULT_MARK} {json.dumps(result)}", flush=True)
    if not losses[-1] < losses[0]:
        raise SystemExit(f"the loss did not go down: {losses[0]} -> {losses[-1]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="a DataTap folder or file (.csv, .pt); generated data when absent")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus > 1:
        # One process per GPU; ranks count across nodes, so every node must have as many.
        mp.spawn(run, args=(gpus, args), nprocs=gpus, join=True)
    else:
        run(0, 1, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
