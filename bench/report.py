"""The launch benchmark's figures: medians per case and count, the ratios the goals of issue 16
name (portal / raw, portal / JupyterHub), a printed table, var/bench/launch_path.json and the
machine it ran on."""

import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.browser_steps import steps_table
from bench.cpu import cpu_case
from bench.portal import create_steps_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "launch_path.json"
TABLE = ROOT / "var" / "bench" / "launch_path.md"
RAW = "raw docker run"
HUB = "JupyterHub + DockerSpawner"


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    docker = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "docker": docker or "unknown",
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


@dataclass
class Report:
    image: str
    flavor: str
    machine: dict = field(default_factory=machine)
    samples: dict = field(default_factory=dict)  # (path, case) -> [seconds]
    notes: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)  # Chromium case -> [where one sample's time went]
    create_steps: dict = field(default_factory=dict)  # (API case, count) -> [bench.portal.create_steps]
    cpu_spent: dict = field(default_factory=dict)  # (path, case) -> [bench.cpu.spent]

    def create_steps_of(self, case: str, count: int) -> list:
        """Where each sandbox of the portal's API cases spent its time (bench/portal.py)."""
        return self.create_steps.setdefault((case, count), [])

    def steps_of(self, case: str) -> list:
        """Where each Chromium sample of `case` spent its time (bench/browser_steps.py)."""
        return self.steps.setdefault(case, [])

    def measure(self, path: str, case: str, run) -> None:
        """Runs one case and records its seconds; a case that breaks is recorded as broken and
        the others still run, so one failure does not cost the whole run's figures."""
        try:
            with cpu_case() as spent:
                seconds = run()
        except Exception as error:  # noqa: BLE001 - any failure of the case is reported as it is
            self.failures.append(f"{path} / {case}: {type(error).__name__}: {error}")
            print(f"  {path:<40} {case:<28} FAILED: {error}", flush=True)
            return
        self.cpu_spent.setdefault((path, case), []).append(spent)
        self.add(path, case, seconds)

    def cpu_table(self) -> str:
        """Median CPU seconds per part of the machine from each case's first call until its
        last answer (bench/cpu.py)."""
        parts = list(dict.fromkeys(key for runs in self.cpu_spent.values() for run in runs for key in run))
        lines = [
            "| path | case | " + " | ".join(parts) + " |",
            "| --- | --- | " + " | ".join("---" for _ in parts) + " |",
        ]
        for (path, case), runs in self.cpu_spent.items():
            cells = [f"{statistics.median(run.get(part, 0.0) for run in runs):.1f}" for part in parts]
            lines.append(f"| {path} | {case} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def add(self, path: str, case: str, seconds: float) -> None:
        self.samples.setdefault((path, case), []).append(round(seconds, 2))
        print(f"  {path:<40} {case:<28} {seconds:7.2f} s", flush=True)

    def median(self, path: str, case: str) -> float | None:
        values = self.samples.get((path, case))
        return round(statistics.median(values), 2) if values else None

    def rows(self) -> list[dict]:
        rows = []
        for path in dict.fromkeys(p for p, _c in self.samples):
            raw, hub = self.median(path, RAW), self.median(path, HUB)
            for case in dict.fromkeys(c for p, c in self.samples if p == path):
                value = self.median(path, case)
                rows.append(
                    {
                        "path": path,
                        "case": case,
                        "median_s": value,
                        "samples_s": self.samples[(path, case)],
                        "ratio_to_raw": _ratio(value, raw) if case not in (RAW,) else None,
                        "ratio_to_hub": _ratio(value, hub) if case not in (RAW, HUB) else None,
                    }
                )
        return rows

    def table(self) -> str:
        lines = [
            "| path | case | median | samples (s) | / raw | / JupyterHub |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in self.rows():
            lines.append(
                f"| {row['path']} | {row['case']} | {row['median_s']:.2f} s | "
                f"{', '.join(f'{s:.2f}' for s in row['samples_s'])} | "
                f"{_cell(row['ratio_to_raw'])} | {_cell(row['ratio_to_hub'])} |"
            )
        return "\n".join(lines)

    def write(self) -> tuple[Path, Path]:
        """The figures as JSON, and the table with its machine as Markdown for BENCHMARKS.md."""
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        self.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        body = {
            "image": self.image,
            "flavor": self.flavor,
            "machine": self.machine,
            "rows": self.rows(),
            "notes": self.notes,
            "failures": self.failures,
            "browser_steps": self.steps,
            "cpu_s": [
                {"path": path, "case": case, "samples": runs} for (path, case), runs in self.cpu_spent.items()
            ],
            "create_steps": [
                {"case": case, "count": count, "sandboxes": rows}
                for (case, count), rows in self.create_steps.items()
            ],
        }
        RESULTS.write_text(json.dumps(body, indent=2) + "\n")
        m = self.machine
        lines = [
            f"Image `{self.image}`, flavor `{self.flavor}`. Machine: {m['nproc']} CPUs ({m['cpu']}), "
            f"{m['memory_gib']} GiB, Docker {m['docker']}, kernel {m['kernel']}; load average (1, 5, 15 "
            f"min) at the start {m['load_average_at_start']}, at the end {m['load_average_at_end']}.",
            "",
            self.table(),
            *(
                [
                    "",
                    "Chromium: seconds after the press, median per step (bench/browser_steps.py)",
                    "",
                    steps_table(self.steps),
                ]
                if self.steps
                else []
            ),
            *(
                [
                    "",
                    "API: seconds after the create call, median per step (bench/portal.py)",
                    "",
                    create_steps_table(self.create_steps),
                ]
                if self.create_steps
                else []
            ),
            *(
                ["", "CPU seconds, first call to last answer (bench/cpu.py)", "", self.cpu_table()]
                if self.cpu_spent
                else []
            ),
            *(f"\n- {note}" for note in self.notes + self.failures),
        ]
        TABLE.write_text("\n".join(lines) + "\n")
        return RESULTS, TABLE


def _ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value is not None and base else None


def _cell(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}"
