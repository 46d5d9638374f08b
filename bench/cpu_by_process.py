"""CPU seconds of each part of the local stack while a command runs, from /proc (Linux).

    .venv/bin/python -m bench.cpu_by_process .venv/bin/python -m bench.job_bench --orders 2000 --workers 1

Every 2 s it reads the CPU time of each process of the stack (FerretDB, PostgreSQL, Kafka, MinIO, the
API, the worker, the render processes, the benchmark itself), and at the end prints what each part
used while the command ran: where an invoice's CPU goes when all of them share the same cores. A process
that ends between two readings loses its last 2 s at most.
"""

import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PARTS = (  # (a word of the command line, the part it names), first match wins
    ("--handler=postgresql", "FerretDB"),
    ("--handler=sqlite", "FerretDB"),
    ("postgres", "PostgreSQL"),
    ("kafka.Kafka", "Kafka"),
    ("minio server", "MinIO"),
    ("multiprocessing.spawn", "render processes"),
    ("cli worker", "worker (its own Python)"),
    ("cli api", "API"),
    ("bench.", "the benchmark (its feed, SMTP server, render-only run)"),
)


def part_of(command: str) -> str | None:
    return next((part for word, part in PARTS if word in command), None)


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """pid -> (part, CPU seconds so far) for the processes of the stack."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        part = part_of(command)
        if part is not None and int(entry.name) != os.getpid():
            found[int(entry.name)] = (part, (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND)
    return found


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    first: dict[int, float] = {}
    last: dict[int, tuple[str, float]] = {}
    started = time.monotonic()
    command = subprocess.Popen(sys.argv[1:])
    while command.poll() is None:
        for pid, (part, seconds) in cpu_seconds().items():
            first.setdefault(pid, seconds)
            last[pid] = (part, seconds)
        time.sleep(2)
    wall = time.monotonic() - started
    used: dict[str, float] = defaultdict(float)
    for pid, (part, seconds) in last.items():
        used[part] += seconds - first[pid]
    print(f"\nCPU seconds by part over {wall:.0f} s ({os.cpu_count()} cores: {wall * (os.cpu_count() or 1):.0f} s):")
    for part, seconds in sorted(used.items(), key=lambda item: -item[1]):
        print(f"  {part:55s} {seconds:8.1f}")
    sys.exit(command.returncode)


if __name__ == "__main__":
    main()
