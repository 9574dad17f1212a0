#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Both training backends on the demo taxonomy in one run: ilab (the baseline) against hub.

Runs the demo's stages harvest, mine, curate and taxonomy once (inventory/local, a fresh output
folder), then playbooks/train.yml with autoport_train_backend=ilab and with =hub on that same
taxonomy and curated split, each in a fresh work area (the venvs and models stay cached), then
playbooks/evaluate.yml once on the same test split with the systems base, tuned (the ilab model)
and tuned_hub (the hub model).

Printed per backend: wall seconds of the whole train.yml and per stage (environment and
checks = the rest, generate, train, convert, chat), samples generated/kept/rejected, peak
memory (sum of the resident sets of every process whose command line names the backend's
work area, sampled every 0.5 s: teacher server, generator, trainer, converter), and the
evaluation's exact/applies figures of tuned against base. The hub/ilab ratio is of wall time
in this same run. The demo inventory trains ilab on the skills leaves only (its knowledge
pipeline downloads docling models); hub trains skills and knowledge.

--rounds N trains each backend N times, taking turns (ilab first in odd rounds, hub first in
even ones, so neither always runs on a machine the other has just warmed or loaded), each time
in a fresh work area, and prints every round's ratio and their median; the evaluation uses the
first round's models.

Usage: bench_train_backends.py [--keep DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSIBLE = os.path.join(REPO, ".venv", "bin", "ansible-playbook")


class MemorySampler(threading.Thread):
    """Peak of the summed RSS of the processes whose command line contains a marker."""

    def __init__(self, marker: str):
        super().__init__(daemon=True)
        self.marker, self.peak_mb, self.running = marker, 0.0, True

    def run(self) -> None:
        while self.running:
            total = 0
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as handle:
                        if self.marker.encode() not in handle.read():
                            continue
                    with open("/proc/%s/status" % pid, "r", encoding="ascii", errors="replace") as handle:
                        for line in handle:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1])
                except OSError:
                    continue
            self.peak_mb = max(self.peak_mb, total / 1024.0)
            time.sleep(0.5)


def playbook(name: str, extravars: dict, log: str) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "collections") + ":" + os.path.join(REPO, "tests", "collections"))
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as handle:
        result = subprocess.run([ANSIBLE, "-i", os.path.join(REPO, "inventory", "local"), os.path.join(REPO, "playbooks", name),
                                 "-e", json.dumps(extravars)], stdout=handle, stderr=subprocess.STDOUT, env=env, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit("%s failed (exit %d); see %s" % (name, result.returncode, log))
    return seconds


def train(backend: str, base: str, output: str, round_number: int = 1) -> dict:
    name = backend if round_number == 1 else "%s-%d" % (backend, round_number)
    work = os.path.join(base, "work-" + name)
    results = os.path.join(output, name)
    extravars = {"autoport_output_dir": output, "autoport_train_backend": backend,
                 "%s_train_workdir" % backend: work, "%s_train_output_dir" % backend: results}
    sampler = MemorySampler(work)
    sampler.start()
    seconds = playbook("train.yml", extravars, os.path.join(base, "train-%s.log" % name))
    sampler.running = False
    sampler.join()
    with open(os.path.join(results, "report", "report.json"), "r", encoding="utf-8") as handle:
        report = json.load(handle)
    steps = {name: float(step.get("seconds") or 0.0) for name, step in report["steps"].items()}
    steps["environment and checks"] = seconds - sum(steps.values())
    samples = report["samples"]
    models = sorted(os.listdir(os.path.join(results, "model")))
    return {"seconds": seconds, "steps": steps, "peak_mb": sampler.peak_mb, "work": work,
            "model": os.path.join(results, "model", [m for m in models if m.endswith(".gguf")][-1]),
            "generated": samples.get("generated"), "kept": samples.get("kept"), "rejected": samples.get("rejected")}


def evaluate(ilab_model: str, hub_model: str, base: str, output: str) -> dict:
    """One evaluation, same items and decoding: base, tuned (ilab) and tuned_hub (hub)."""
    folder = os.path.join(base, "evaluate")
    extravars = {"autoport_output_dir": output, "evaluate_systems": ["base", "tuned", "tuned_hub"], "evaluate_tuned_model": ilab_model,
                 "evaluate_tuned_hub_model": hub_model, "evaluate_output_dir": folder, "evaluate_workdir": os.path.join(base, "evaluate-work")}
    seconds = playbook("evaluate.yml", extravars, os.path.join(base, "evaluate.log"))
    with open(os.path.join(folder, "summary.json"), "r", encoding="utf-8") as handle:
        summary = json.load(handle)
    return {"seconds": seconds, "items": summary.get("items"), "overall": summary.get("overall", {})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", default="", help="folder for outputs and logs (default: a temporary folder)")
    parser.add_argument("--rounds", type=int, default=1, help="train each backend this many times, taking turns")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    base = args.keep or tempfile.mkdtemp(prefix="bench-train-")
    os.makedirs(base, exist_ok=True)
    output = os.path.join(base, "output")
    started = time.monotonic()
    for stage in ("harvest", "mine", "curate", "taxonomy"):
        playbook("%s.yml" % stage, {"autoport_output_dir": output}, os.path.join(base, "%s.log" % stage))
    print("demo stages harvest..taxonomy: %.0f s (outputs in %s)" % (time.monotonic() - started, base))
    rounds = []
    for number in range(1, args.rounds + 1):
        order = ("ilab", "hub") if number % 2 else ("hub", "ilab")
        rounds.append({backend: train(backend, base, output, number) for backend in order})
    results = rounds[0]
    evaluation = evaluate(results["ilab"]["model"], results["hub"]["model"], base, output)
    for backend, system in (("ilab", "tuned"), ("hub", "tuned_hub")):
        results[backend]["evaluation"] = {"system": system, "overall": evaluation["overall"]}
    print("\n| backend | round | train.yml s | %s | generated | kept | rejected | peak MB | base exact | tuned exact | tuned applies |" % " | ".join(
        ("environment and checks", "generate", "train", "convert", "chat")))
    print("|---" * 15 + "|")
    for number, one in enumerate(rounds, 1):
        for backend in ("ilab", "hub"):
            result = one[backend]
            figures = ["(round 1 only)"] * 3
            if "evaluation" in result:
                overall, tuned = result["evaluation"]["overall"], result["evaluation"]["system"]
                figures = [(overall.get(system, {}).get(metric) or {}).get("mean") for system, metric in
                           (("base", "exact"), (tuned, "exact"), (tuned, "applies"))]
            print("| %s | %d | %.0f | %s | %s | %s | %s | %.0f | %s | %s | %s |" % (
                backend, number, result["seconds"], " | ".join("%.0f" % result["steps"].get(step, 0.0) for step in
                                                               ("environment and checks", "generate", "train", "convert", "chat")),
                result["generated"], result["kept"], result["rejected"], result["peak_mb"], *figures))
    ratios = [one["hub"]["seconds"] / one["ilab"]["seconds"] for one in rounds]
    for number, (one, ratio) in enumerate(zip(rounds, ratios), 1):
        print("round %d (%s first): ilab %.0f s, hub %.0f s, hub / ilab %.2fx" % (
            number, "ilab" if number % 2 else "hub", one["ilab"]["seconds"], one["hub"]["seconds"], ratio))
    print("\nhub / ilab wall time of train.yml, median of %d round(s) in this run: %.2fx (goal: below 1.00x, with knowledge)"
          % (len(ratios), statistics.median(ratios)))
    print("evaluation: %s items, %.0f s, systems base, tuned (ilab), tuned_hub (hub)" % (evaluation["items"], evaluation["seconds"]))
    with open(os.path.join(base, "bench_train_backends.json"), "w", encoding="utf-8") as handle:
        json.dump(dict(results, rounds=[{backend: {k: v for k, v in one[backend].items() if k != "evaluation"} for backend in one}
                                        for one in rounds], ratios=ratios), handle, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
