#!/usr/bin/env python3
"""The C++ SDK's generation calls (tests/e2e/cpp_sdk_llm_check.cpp, GoogleTest) against a real `lmaas serve`
serving stories260K (converted to GGUF by `lmaas convert`), a slower random generator, and a classifier.
    tests/e2e/cpp_sdk_llm_test.py path/to/lmaas path/to/cpp_sdk_llm_check path/to/shared/data
"""
import os, subprocess, sys, tempfile

import generators
import lmaas_server


def main():
    lmaas, check, data = (os.path.abspath(a) for a in sys.argv[1:4])
    lmaas_server.LMAAS, lmaas_server.WORK = lmaas, tempfile.mkdtemp(prefix="lmaas-cpp-sdk-llm-test-")
    try:
        lmaas_server.train("sent-en", os.path.join(data, "sentiment/en/mr/train.tsv"), [])
        generators.add(data)
        server = lmaas_server.Server("--no-auth", "--threads", "2")
        try:
            env = dict(os.environ, LMAAS_BASE_URL="http://127.0.0.1:%d" % server.port, LMAAS_DATA=data)
            env.pop("LMAAS_API_KEY", None)
            rc = subprocess.run([check], env=env, timeout=240).returncode
        finally:
            assert server.stop() == 0
        sys.exit(rc)
    finally:
        lmaas_server.finish()


if __name__ == "__main__":
    main()
