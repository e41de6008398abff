#!/usr/bin/env python3
"""CPU seconds of a test run by kind of process (docs/testing.md, "How long the suite takes").

    .ci/cpu-by-process.py record OUT.json &     # then run .ci/run; touch OUT.json.stop when it is done
    .ci/cpu-by-process.py report OUT.json

Reads /proc every 2 s (Linux only) and keeps, per process, the most user+system CPU it was seen with, less what it
had already used when the recording started. A process that lives under 2 s is missed. The kinds are what the
suite starts: Maven, surefire's JVM, the packaged apps, Keycloak, s3proxy, PostgreSQL, chromium.
"""
import json
import os
import sys
import time


def kind(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    for needle, name in (("surefire", "surefire JVM"), ("quarkus-run.jar", "packaged app"), ("keycloak", "Keycloak"),
                         ("s3proxy", "s3proxy"), ("plexus-classworlds", "Maven"), ("m2/wrapper", "Maven"),
                         ("postgres", "PostgreSQL"), ("chrom", "chromium")):
        if needle in cmd.lower():
            return name
    return None


def cpu_seconds(pid, ticks):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def record(out):
    ticks = os.sysconf("SC_CLK_TCK")
    seen, first = {}, True
    while not os.path.exists(out + ".stop"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                used = cpu_seconds(entry, ticks)
            except (OSError, ValueError, IndexError):
                continue
            if entry not in seen:
                name = kind(entry)
                if name is None:
                    continue
                seen[entry] = {"kind": name, "before": used if first else 0.0, "cpu": used}
            seen[entry]["cpu"] = max(seen[entry]["cpu"], used)
        first = False
        with open(out, "w") as f:
            json.dump(seen, f)
        time.sleep(2)


def report(out):
    with open(out) as f:
        seen = json.load(f)
    totals = {}
    for p in seen.values():
        count, cpu = totals.get(p["kind"], (0, 0.0))
        totals[p["kind"]] = (count + 1, cpu + p["cpu"] - p["before"])
    for name, (count, cpu) in sorted(totals.items(), key=lambda t: -t[1][1]):
        print(f"{cpu:8.0f} s  {count:4d} processes  {name}")
    print(f"{sum(c for _, c in totals.values()):8.0f} s  in all")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("record", "report"):
        sys.exit(__doc__)
    record(sys.argv[2]) if sys.argv[1] == "record" else report(sys.argv[2])
