#!/usr/bin/env python3
"""The opaque token endpoint of two consola binaries, side by side in pairs (BENCH_PAIRS, 9
by default; the same pairing as `run.py token`): the median ratio says whether a change made
the hot path slower, without trusting figures taken at different moments.

    python3 benches/compare_builds.py OLD_BINARY NEW_BINARY

Build each with `cargo build --release` and copy `target/release/consola` aside first.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    old, new = sys.argv[1:]
    run.ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        servers = []
        try:
            made = {}
            for name, binary in (("old", old), ("new", new)):
                run.CONSOLA = binary
                server = run.consola_serve(os.path.join(tmp, name))
                servers.append(server)
                token = run.set_up(server.url)
                made[name] = (server.url + "/oauth/token",
                              run.consumer_with_format(server.url, token, "opaque"))
            seconds = run.TOKEN_PAIR_SECONDS
            goals = {"new vs old": (run.token_load(tmp, *made["new"], seconds),
                                    run.token_load(tmp, *made["old"], seconds))}
            ours, theirs, ratio = run.paired(goals)["new vs old"]
            print(f"new {run.fmt_rps(ours)} vs old {run.fmt_rps(theirs)}: {ratio:.0%} "
                  f"(median of {run.PAIRS} pairs)")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
