"""Benchmark: create call until Jupyter answers, for one `jupyter-pytorch` notebook and for 8 at
once, against a raw `docker run` of the same image whose readiness is polled the same way (the
same probe of Jupyter's port, as often), side by side in the same run. Run with `make bench`;
results are printed and written to var/bench/launch_latency.json. It measures; it asserts
nothing about speed."""

import json
import os
import statistics
from pathlib import Path

import pytest
from django.conf import settings

from bench.launch import median, portal_launch, raw_docker_run
from catalog.models import CatalogItem
from provisioning.models import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "jupyter-pytorch"
FLAVOR = "small"
CONCURRENCY = tuple(int(n) for n in os.environ.get("BENCH_CONCURRENCY", "1,8").split(","))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RESULTS = Path(settings.BASE_DIR) / "var" / "bench" / os.environ.get("BENCH_RESULTS", "launch_latency.json")


def _phase_spans(runs) -> dict:
    """Median seconds spent reaching each phase, over every create of every round."""
    spans: dict[str, list[float]] = {}
    for run in runs:
        for phases in run.phases:
            for mark in phases[1:]:
                spans.setdefault(mark["phase"], []).append(mark["took_s"])
    return {phase: round(statistics.median(took), 3) for phase, took in spans.items()}


def test_create_to_jupyter_against_raw_docker_run(team, published, bench_workers, docker_client, settings):
    # Eight 1-CPU notebooks on a 2-core machine: allow them, as raw docker run does (no limit).
    settings.CPU_OVERCOMMIT = "8"
    tenant, _user, api = team
    tenant.quota_cpus, tenant.quota_memory_mib, tenant.quota_sandboxes = 64, 256 * 1024, 50
    tenant.quota_storage_gib = 1000
    tenant.save()
    published(ITEM)
    item = CatalogItem.objects.get(slug=ITEM)
    services = item.spec.head.services
    docker_client.images.get(item.image)  # both sides start from an image already on the host
    environment = {"JUPYTER_TOKEN": "bench"}

    report = {"item": ITEM, "image": item.image, "flavor": FLAVOR, "rounds": ROUNDS, "results": []}
    for count in CONCURRENCY:
        raw, portal = [], []
        for round_no in range(ROUNDS):
            tag = f"{count}-{round_no}"
            # Alternate which side goes first, so neither always finds a warmer engine.
            for side in ("portal", "raw") if round_no % 2 else ("raw", "portal"):
                if side == "raw":
                    raw.append(
                        raw_docker_run(
                            docker_client,
                            image=item.image,
                            services=services,
                            environment=environment,
                            count=count,
                            tag=tag,
                        )
                    )
                else:
                    portal.append(
                        portal_launch(api, tenant="lab", item=ITEM, flavor=FLAVOR, count=count, tag=tag)
                    )
        row = {
            "at_once": count,
            "raw_docker_run_s": median(raw),
            "portal_running_s": median([r.running_s for r in portal]),
            "portal_answers_s": median([r.answers_s for r in portal]),
            "raw_all_s": [round(x, 2) for x in raw],
            "portal_running_all_s": [round(r.running_s, 2) for r in portal],
            "portal_phase_medians_s": _phase_spans(portal),
        }
        row["ratio_running_to_raw"] = round(row["portal_running_s"] / row["raw_docker_run_s"], 2)
        row["ratio_answers_to_raw"] = round(row["portal_answers_s"] / row["raw_docker_run_s"], 2)
        report["results"].append(row)
        print(
            f"\n{count:>2} at once: raw docker run {row['raw_docker_run_s']} s, portal until running "
            f"{row['portal_running_s']} s (x{row['ratio_running_to_raw']}), until Jupyter answers "
            f"{row['portal_answers_s']} s (x{row['ratio_answers_to_raw']}); raw {row['raw_all_s']}, "
            f"portal {row['portal_running_all_s']}; phases {row['portal_phase_medians_s']}"
        )
    assert not Sandbox.objects.exclude(status="deleted").exists()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
