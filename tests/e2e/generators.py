"""Generators for tests that serve them (with tests/e2e/lmaas_server.py): stories260K (llama2.c's checkpoint,
converted to GGUF by `lmaas convert`) as models/stories/1, and a 27M-parameter random model as models/slow/1
whose long generations last seconds (long enough to stop one midway). Call after lmaas_server.start(), or
with lmaas_server.LMAAS and WORK set.

    generators.add(path_to_shared_data)              # both
    generators.add(path_to_shared_data, slow=False)  # stories only
"""
import json, os, subprocess

import lmaas_server


def convert(name, *args):
    version = os.path.join(lmaas_server.WORK, "models", name, "1")
    os.makedirs(version)
    subprocess.run([lmaas_server.LMAAS, "convert", *args, "--output", os.path.join(version, name + ".gguf")],
                   check=True, capture_output=True)


def add(data, slow=True):
    convert("stories", "--input", os.path.join(data, "models/stories260K/stories260K.bin"))
    if slow:
        convert("slow", "--random-llama", "--dim", "512", "--ff", "1536", "--layers", "8", "--heads", "8",
                "--vocab", "512", "--context", "2048", "--type", "f32")


def reference(data):
    """llama2.c's greedy continuations of stories260K (independent of lmaas)."""
    with open(os.path.join(data, "models/stories260K/reference/greedy_and_logits.json"), encoding="utf-8") as f:
        return json.load(f)
