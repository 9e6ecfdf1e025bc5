#!/usr/bin/env python3
"""OpenAI compatibility: the official OpenAI Node client (tests/compat/openai-node, pinned, installed by
scripts/install-node-deps) runs unchanged against a real `lmaas serve` with two classifiers and a generator
(stories260K, converted by `lmaas convert`) (tests/compat/openai-node/check.mjs).
    tests/e2e/openai_node_test.py path/to/lmaas path/to/shared/data
"""
import json, os, sys

import generators
import lmaas_server

COMPAT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat", "openai-node")


def main():
    lmaas, data = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    lmaas_server.start(lmaas, data)
    generators.add(data, slow=False)
    server = lmaas_server.Server("--sentiment-en-model", "sent-en", "--sentiment-zh-model", "sent-zh")
    try:
        def key(name, *limits):
            out = lmaas_server.keys(server.data_dir, "create", "--name", name, "--scope", "infer", "--json", *limits)
            return json.loads(out)["secret"]
        lmaas_server.node_check(COMPAT, "check.mjs", {"LMAAS_URL": "http://127.0.0.1:%d" % server.port,
                                                      "LMAAS_KEY": key("openai-node"), "LMAAS_DATA": data,
                                                      "LMAAS_LIMITED_KEY": key("openai-node-limited",
                                                                               "--requests-per-minute", "1")},
                                timeout=120)
    finally:
        assert server.stop() == 0
        lmaas_server.finish()


if __name__ == "__main__":
    main()
