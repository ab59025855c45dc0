#!/usr/bin/env python3
"""Counts the instructions the token endpoint costs per request, under callgrind: the same
figure every run, where requests per second on this shared machine are not.

    python3 benches/profile.py                # off (no metrics), on (--metrics-listen), floor
    python3 benches/profile.py off floor 30   # those variants, 30 functions each
    python3 benches/profile.py eddsa floor-eddsa  # EdDSA JWTs, and the floor that signs them
    python3 benches/profile.py --no-build     # the binaries already in target/release

For each variant: a release server (or the minimal axum floor) under valgrind, warmed up,
its counters zeroed, 10 s of wrk (4 connections), then instructions per request in total
and by function (self cost). SHA-256 shows several times its real share: valgrind runs
the portable code, not the SHA extensions the CPU has. Needs valgrind.
"""

import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the benchmark's own helpers)


def self_costs(path):
    """Self cost per function name from a callgrind output file."""
    names, costs = {}, collections.Counter()
    fn, after_calls = None, False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line[0].isdigit() or line[0] in "+-*":
                parts = line.split()
                if len(parts) >= 2 and not after_calls:
                    costs[fn] += int(parts[1])
                after_calls = False
                continue
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                kind, id_, name = m.groups()
                if name:
                    names[id_] = name
                if kind == "fn":
                    fn = id_
            elif line.startswith("calls="):
                after_calls = True
    return {names.get(k, k): v for k, v in costs.items()}


def main():
    args = sys.argv[1:]
    skip_build = "--no-build" in args  # the binaries already in target/release
    args = [a for a in args if a != "--no-build"]
    top = int(args.pop()) if args and args[-1].isdigit() else 20
    variants = args or ["off", "on", "floor"]
    if not skip_build:
        run.build()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        server = run.consola_serve(data)
        token = run.set_up(server.url)
        opaque = run.consumer_with_format(server.url, token, "opaque")
        eddsa = run.consumer_with_format(server.url, token, "jwt", "EdDSA")
        sample = subprocess.run(
            ["curl", "-s", "-u", f"{opaque[0]}:{opaque[1]}", "-d", "grant_type=client_credentials",
             server.url + "/oauth/token"], check=True, capture_output=True, text=True).stdout
        server.stop()
        for variant in variants:
            creds = eddsa if variant.endswith("eddsa") else opaque
            script = run.post_script(tmp, run.basic(*creds))
            out = os.path.join(tmp, f"callgrind.{variant}")
            valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            if variant.startswith("floor"):
                argv = [run.bench_binary("floor"), "--listen", "127.0.0.1:0"]
                argv += (["--sign", "--alg", "EdDSA"] if variant == "floor-eddsa"
                         else ["--body-size", str(len(sample))])
                server = run.Server(valgrind + argv, "floor escuchando en ", core="0,1")
                url = server.url + "/token"
            else:
                extra = ["--metrics-listen", "127.0.0.1:0"] if variant == "on" else []
                argv = [run.CONSOLA, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, *extra]
                server = run.Server(valgrind + argv, "consola escuchando en ", core="0,1")
                url = server.url + "/oauth/token"
            load = ["taskset", "-c", run.LOAD_CORE, "wrk", "-t1", "-c4", "-s", script]
            subprocess.run(load + ["-d3s", url], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "-z", str(server.proc.pid)], check=True,
                           capture_output=True)
            measured = subprocess.run(load + ["-d10s", url], check=True, capture_output=True,
                                      text=True).stdout
            requests = int(re.search(r"(\d+) requests in", measured).group(1))
            subprocess.run(["callgrind_control", "-d", str(server.proc.pid)], check=True,
                           capture_output=True)
            time.sleep(1)
            server.stop()
            costs = self_costs(out + ".1")
            total = sum(costs.values())
            print(f"{variant}: {total / requests:,.0f} instructions per request ({requests} requests)")
            for name, cost in sorted(costs.items(), key=lambda kv: -kv[1])[:top]:
                print(f"  {cost / requests:8,.0f}  {name[:110]}")


if __name__ == "__main__":
    main()
