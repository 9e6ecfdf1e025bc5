"""Fixtures: a real `lmaas serve` (tests/e2e/lmaas_server.py) with two small trained models and two
generators (stories260K converted to GGUF by `lmaas convert`, and a slower random one), and clients.

The binary and the shared data come from LMAAS_BIN and LMAAS_DATA (CTest sets both)."""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # the package from this tree, installed or not
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "e2e"))

import generators  # noqa: E402
import lmaas_server  # noqa: E402


@pytest.fixture(scope="session")
def server():
    binary, data = os.environ.get("LMAAS_BIN"), os.environ.get("LMAAS_DATA")
    if not binary or not data:
        pytest.fail("set LMAAS_BIN (the lmaas binary) and LMAAS_DATA (the shared data directory)")
    lmaas_server.start(os.path.abspath(binary), os.path.abspath(data))
    generators.add(os.path.abspath(data))
    s = lmaas_server.Server("--sentiment-en-model", "sent-en", "--sentiment-zh-model", "sent-zh")
    s.infer_key = json.loads(lmaas_server.keys(s.data_dir, "create", "--name", "sdk", "--scope", "infer", "--json"))["secret"]
    yield s
    assert s.stop() == 0
    lmaas_server.finish()


@pytest.fixture
def base_url(server):
    return "http://127.0.0.1:%d" % server.port


@pytest.fixture(scope="session")
def reference():
    """llama2.c's greedy continuations of stories260K (independent of lmaas)."""
    return generators.reference(os.environ["LMAAS_DATA"])
