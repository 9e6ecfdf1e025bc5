#!/usr/bin/env python3
"""The web console in Debian's chromium (playwright-core from tests/browser, installed by
scripts/install-node-deps) against a real `lmaas serve` with two classifiers and two generators (stories260K
converted by `lmaas convert`, and a slow random one to stop midway); screenshots of each page land in SHOTS_DIR.
    tests/e2e/console_test.py path/to/lmaas path/to/shared/data SHOTS_DIR
"""
import json, os, sys

import generators
import lmaas_server

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")


def main():
    lmaas, data, shots = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    os.makedirs(shots, exist_ok=True)
    for old in os.listdir(shots):  # only this run's screenshots
        if old.endswith(".png"):
            os.remove(os.path.join(shots, old))
    if not os.path.exists("/usr/bin/chromium"):
        sys.exit("console_test: no /usr/bin/chromium: run scripts/install-deps")
    lmaas_server.start(lmaas, data)
    generators.add(data)
    server = lmaas_server.Server("--sentiment-en-model", "sent-en", "--sentiment-zh-model", "sent-zh")
    try:
        infer = json.loads(lmaas_server.keys(server.data_dir, "create", "--name", "console-infer", "--json"))["secret"]
        lmaas_server.node_check(BROWSER, "console.mjs", {"LMAAS_URL": "http://127.0.0.1:%d" % server.port,
                                                         "LMAAS_ADMIN_KEY": server.admin_key, "LMAAS_INFER_KEY": infer,
                                                         "LMAAS_DATA": data,
                                                         "SHOTS_DIR": shots}, timeout=240)
        print("screenshots: " + ", ".join(sorted(os.path.join(shots, f) for f in os.listdir(shots))))
    finally:
        assert server.stop() == 0
        lmaas_server.finish()


if __name__ == "__main__":
    main()
