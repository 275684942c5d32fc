"""The sandbox's TensorFlow validation job: proves that the nodes train together.

Run once per node (the portal's jobs do that) with TF_CONFIG in the environment, which names
every node of the job as a worker and this node's index. It trains a small Keras model on
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
BATCH_PER_REPLICA = 64


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

    with strategy.scope():
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential(
            [
                tf.keras.Input(shape=(FEATURES,)),
                tf.keras.layers.Dense(32, activation="relu"),
                tf.keras.layers.Dense(CLASSES),
            ]
        )
        model.compile(
            optimizer=tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    history = model.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps, verbose=0)
    losses = [round(float(loss), 5) for loss in history.history["loss"]]
    for epoch, loss in enumerate(losses, start=1):
        print(f"[worker {index}] epoch {epoch}/{args.epochs}: loss {loss}", flush=True)
    if index == 0:
        result = {
            "framework": "tensorflow",
            "strategy": type(strategy).__name__,
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
