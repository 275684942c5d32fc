"""The sandbox's TensorFlow validation job: proves that the nodes train together.

Run once per node (the portal's jobs do that) with TF_CONFIG in the environment, which names
every node of the job as a worker and this node's index. It trains a small two-layer network on
generated data with tf.distribute.MultiWorkerMirroredStrategy, whose gradients are all-reduced
across the workers every step. Worker 0 (the chief) prints one line
`SANDBOX_VALIDATION_RESULT {json}` that the portal keeps; a loss that does not go down makes the
job fail.
"""

import argparse
import json
import os
import sys

import numpy as np
import tensorflow as tf

RESULT_MARK = "SANDBOX_VALIDATION_RESULT"
SAMPLES, FEATURES, CLASSES = 2048, 16, 4
HIDDEN = 32
BATCH_PER_REPLICA = 64
LEARNING_RATE = 0.5
# Every worker applies the same all-reduced gradients; MEAN keeps the copies equal even so.
MEAN_UPDATE = tf.VariableAggregation.MEAN


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="steps per epoch")
    args = parser.parse_args()
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    if "cluster" not in config:
        raise SystemExit("TF_CONFIG is not set: run this as a job on the sandbox's nodes")
    index = config["task"]["index"]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    workers = len(config["cluster"]["worker"])
    print(f"[worker {index}] {strategy.num_replicas_in_sync} replicas on {workers} workers", flush=True)

    rng = np.random.default_rng(0)  # the same data everywhere; each worker reads its shard
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, CLASSES))).argmax(axis=1)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(SAMPLES, seed=0)
        .repeat()
        .batch(BATCH_PER_REPLICA * strategy.num_replicas_in_sync)
    )
    options = tf.data.Options()
    # Generated data has no files to shard by: each worker takes every n-th element.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)

    # A custom loop rather than Keras' fit: Keras 3 does not distribute a dataset over
    # MultiWorkerMirroredStrategy. The gradients' all-reduce across the workers is explicit.
    with strategy.scope():
        weights = [
            tf.Variable(tf.random.stateless_normal(shape, seed=[0, i]) * 0.3, aggregation=MEAN_UPDATE)
            for i, shape in enumerate([(FEATURES, HIDDEN), (HIDDEN,), (HIDDEN, CLASSES), (CLASSES,)])
        ]

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            w1, b1, w2, b2 = weights
            logits = tf.nn.relu(x @ w1 + b1) @ w2 + b2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        gradients = tape.gradient(loss, weights)
        context = tf.distribute.get_replica_context()
        gradients = context.all_reduce(tf.distribute.ReduceOp.MEAN, gradients)
        for weight, gradient in zip(weights, gradients, strict=True):
            weight.assign_sub(LEARNING_RATE * gradient)
        return loss

    @tf.function
    def train_step(batch):
        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)

    batches = iter(strategy.experimental_distribute_dataset(dataset))
    losses = []
    for epoch in range(1, args.epochs + 1):
        total = sum(float(train_step(next(batches))) for _ in range(args.steps))
        losses.append(round(total / args.steps, 5))
        print(f"[worker {index}] epoch {epoch}/{args.epochs}: loss {losses[-1]}", flush=True)
    if index == 0:
        result = {
            "framework": "tensorflow",
            "strategy": "MultiWorkerMirroredStrategy",
            "workers": workers,
            "replicas": strategy.num_replicas_in_sync,
            "tensorflow": tf.__version__,
            "epochs": args.epochs,
            "steps_per_epoch": args.steps,
            "losses": losses,
            "loss_first": losses[0],
            "loss_last": losses[-1],
        }
        print(f"{RESULT_MARK} {json.dumps(result)}", flush=True)
    if not losses[-1] < losses[0]:
        raise SystemExit(f"the loss did not go down: {losses[0]} -> {losses[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
