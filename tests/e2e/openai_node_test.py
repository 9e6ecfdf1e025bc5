#!/usr/bin/env python3
"""OpenAI compatibility: the official OpenAI Node client (tests/compat/openai-node, pinned, installed by
scripts/install-node-deps) runs unchanged against a real `lmaas serve` (tests/compat/openai-node/check.mjs).
    tests/e2e/openai_node_test.py path/to/lmaas path/to/shared/data
"""
import json, os, subprocess, sys

import lmaas_server

COMPAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat", "openai-node")


def main():
    lmaas, data = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.path.isdir(os.path.join(COMPAT, "node_modules", "openai")):
        sys.exit("openai_node_test: no tests/compat/openai-node/node_modules: run scripts/install-node-deps")
    lmaas_server.start(lmaas, data)
    server = lmaas_server.Server("--sentiment-en-model", "sent-en", "--sentiment-zh-model", "sent-zh")
    try:
        def key(name, *limits):
            out = lmaas_server.keys(server.data_dir, "create", "--name", name, "--scope", "infer", "--json", *limits)
            return json.loads(out)["secret"]
        env = dict(os.environ, LMAAS_URL="http://127.0.0.1:%d" % server.port, LMAAS_KEY=key("openai-node"),
                   LMAAS_LIMITED_KEY=key("openai-node-limited", "--requests-per-minute", "1"))
        out = subprocess.run(["node", "check.mjs"], cwd=COMPAT, env=env, capture_output=True, text=True, timeout=120)
        print(out.stdout + out.stderr)
        if out.returncode != 0:
            sys.exit(1)
    finally:
        assert server.stop() == 0
        lmaas_server.finish()


if __name__ == "__main__":
    main()
