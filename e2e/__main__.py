"""``python -m e2e``: run the cases on each deployment and print PASS/FAIL, times and peak RSS."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from types import FrameType

from e2e.cases import CASES, Case
from e2e.deployment import KINDS, Deployment


@dataclass
class Result:
    deployment: str
    case: str
    passed: bool
    wall_s: float
    ready_to_success_s: list[float] = field(default_factory=list)
    detail: str = ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m e2e", description=__doc__)
    parser.add_argument("--deployment", choices=KINDS, action="append", dest="deployments")
    parser.add_argument("--case", action="append", dest="cases", help="run only this case (repeat for more)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (logs) after the run")
    parser.add_argument("--json", help="also write the results and peak RSS to this file")
    return parser


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def run_deployment(kind: str, cases: list[Case], keep: bool) -> tuple[list[Result], dict[str, int], float]:
    results: list[Result] = []
    started = time.monotonic()
    deployment = Deployment(kind)
    print(f"== {kind}: starting (home {deployment.root})", flush=True)
    try:
        try:
            deployment.start()
            listening = deployment.check_listening()
            print(f"   up in {time.monotonic() - started:.0f} s; listening: {', '.join(listening)}", flush=True)
        except Exception:
            results.append(
                Result(kind, "deployment_starts", False, time.monotonic() - started, [], traceback.format_exc())
            )
            print(f"FAIL {kind} deployment_starts\n{results[-1].detail}", flush=True)
            cases = []
        for case in cases:
            results.append(run_case(deployment, case))
            # A case may leave a component dead when it fails half-way: bring it back for the next.
            for name, component in deployment.components.items():
                if not component.alive():
                    print(f"   restarting {name}", flush=True)
                    deployment.restart(name)
        if cases:
            try:
                deployment.check_listening()
            except AssertionError as err:
                results.append(Result(kind, "loopback_only", False, 0.0, [], str(err)))
    finally:
        deployment.close()
        if keep:
            print(f"   kept {deployment.root}", flush=True)
        else:
            deployment.delete()
    rss = {name: component.peak_rss for name, component in deployment.components.items()}
    return results, rss, time.monotonic() - started


def run_case(deployment: Deployment, case: Case) -> Result:
    started = time.monotonic()
    try:
        outcome = case.run(deployment)
        result = Result(deployment.kind, case.name, True, time.monotonic() - started, outcome.ready_to_success_s,
                        "; ".join(outcome.notes))  # fmt: skip
    except Exception as err:
        detail = f"{type(err).__name__}: {err}"
        if not isinstance(err, AssertionError):
            detail += "\n" + traceback.format_exc()
        result = Result(deployment.kind, case.name, False, time.monotonic() - started, [], detail)
    delays = ", ".join(f"{d:.1f}" for d in result.ready_to_success_s) or "-"
    print(
        f"{'PASS' if result.passed else 'FAIL'} {deployment.kind:<11} {case.name:<30} wall {result.wall_s:6.1f} s"
        f"   file ready -> sensor success: {delays} s   {result.detail}",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    kinds = args.deployments or list(KINDS)
    unknown = set(args.cases or ()) - {case.name for case in CASES}
    if unknown:
        print(f"unknown case(s) {sorted(unknown)}; known: {[case.name for case in CASES]}", file=sys.stderr)
        return 2
    started = time.monotonic()
    report: dict[str, object] = {}
    results: list[Result] = []
    for kind in kinds:
        cases = [c for c in CASES if kind in c.deployments and (not args.cases or c.name in args.cases)]
        if not cases:
            continue
        kind_results, rss, wall = run_deployment(kind, cases, args.keep)
        results += kind_results
        report[kind] = {"wall_s": round(wall, 1), "peak_rss_mib": {n: round(b / 2**20) for n, b in rss.items()}}
        print(f"== {kind}: {wall:.0f} s; peak RSS (MiB, process and children):", flush=True)
        for name, size in rss.items():
            print(f"   {name:<14} {size / 2**20:8.0f}", flush=True)
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    print(f"== e2e: {time.monotonic() - started:.0f} s", flush=True)
    for r in results:
        print(f"   {'PASS' if r.passed else 'FAIL'} {r.deployment:<11} {r.case:<30} {r.wall_s:6.1f} s", flush=True)
    if args.json:
        report["results"] = [asdict(r) for r in results]
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    print(f"e2e: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and results else 1


if __name__ == "__main__":
    sys.exit(main())
