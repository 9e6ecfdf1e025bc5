#!/usr/bin/env python3
"""Translation end to end with the real binary (standard library only): `lmaas train --task translate` on a
slice of the shared Tatoeba Chinese-English pairs (a tiny model: this checks the plumbing, not quality),
`lmaas eval` (BLEU/chrF, JSON), `lmaas predict`, and `lmaas serve`: /v1/translations, KServe v2 infer and
metadata, /v1/models, the Python SDK, concurrent requests batched together, and clear errors for a wrong
task, a wrong language and out-of-range decoding options.
    tests/e2e/translate_test.py path/to/lmaas path/to/shared/data path/to/sdk/python
"""
import json, os, subprocess, sys, tempfile, threading, unittest

import lmaas_server
from lmaas_server import Server

LMAAS = DATA = WORK = None
SOURCES = ["我爱你。", "你好。", "他是一个高大的男孩。"]


def run(*args, stdin=None, check=True):
    return subprocess.run([LMAAS] + list(args), input=stdin, capture_output=True, text=True, check=check)


def setUpModule():
    global WORK
    WORK = tempfile.mkdtemp(prefix="lmaas-translate-test-")
    lmaas_server.LMAAS, lmaas_server.WORK = LMAAS, WORK
    with open(os.path.join(DATA, "translation/cmn-eng/train.txt"), encoding="utf-8") as f:
        lines = f.readlines()
    for name, part in (("train.tsv", lines[:3000]), ("dev.tsv", lines[20000:20100])):
        with open(os.path.join(WORK, name), "w", encoding="utf-8") as f:
            f.writelines(part)
    out = run("train", "--task", "translate", "--train", os.path.join(WORK, "train.tsv"), "--valid",
              os.path.join(WORK, "dev.tsv"), "--source-column", "1", "--target-column", "0", "--source-lang", "zh",
              "--target-lang", "en", "--source-vocab-size", "1500", "--target-vocab-size", "600", "--d-model", "32", "--n-heads", "2", "--dim-feedforward", "64",
              "--encoder-layers", "1", "--decoder-layers", "1", "--epochs", "2", "--batch-tokens", "1024", "--lr", "3e-3",
              "--warmup-steps", "20", "--valid-score-limit", "50", "--threads", "2", "--log-format", "json",
              "--out", os.path.join(WORK, "models", "zh-en", "1"))
    global SUMMARY
    SUMMARY = json.loads(out.stdout)


def tearDownModule():
    lmaas_server.finish()


class CommandLineTest(unittest.TestCase):
    model = property(lambda self: os.path.join(WORK, "models", "zh-en", "1"))

    def test_train_writes_a_translation_bundle(self):
        self.assertEqual(set(SUMMARY["dev"]), {"bleu", "chrf", "loss"})
        with open(os.path.join(self.model, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        self.assertEqual(config["task"], "translation")
        self.assertEqual((config["source_language"], config["target_language"]), ("zh", "en"))
        self.assertEqual(config["architecture"]["d_model"], 32)
        for name in ("model.safetensors", "source.model", "target.model"):
            self.assertTrue(os.path.isfile(os.path.join(self.model, name)), name)

    def test_eval_prints_bleu_and_chrf(self):
        out = run("eval", "--model", self.model, "--data", os.path.join(WORK, "dev.tsv"), "--source-column", "1",
                  "--target-column", "0", "--beam-size", "2", "--json")
        scores = json.loads(out.stdout)
        self.assertEqual((scores["sentences"], scores["bleu_tokenize"], scores["beam_size"]), (100, "13a", 2))
        self.assertTrue(0 <= scores["bleu"] <= 100 and 0 <= scores["chrf"] <= 100)

    def test_eval_scores_hypothesis_files(self):
        ref = os.path.join(WORK, "ref.txt")
        with open(ref, "w", encoding="utf-8") as f:
            f.write("The cat sat on the mat.\nIt is raining today.\n")
        scores = json.loads(run("eval", "--hypotheses", ref, "--references", ref, "--json").stdout)
        self.assertAlmostEqual(scores["bleu"], 100.0, places=6)
        self.assertAlmostEqual(scores["chrf"], 100.0, places=6)
        short = os.path.join(WORK, "short.txt")
        with open(short, "w", encoding="utf-8") as f:
            f.write("The cat sat on the mat.\n")
        bad = run("eval", "--hypotheses", short, "--references", ref, check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("has 1 lines but", bad.stderr)

    def test_lstm_with_attention_trains_and_translates(self):
        out = os.path.join(WORK, "lstm")
        run("train", "--task", "translate", "--arch", "lstm", "--train", os.path.join(WORK, "train.tsv"), "--valid",
            os.path.join(WORK, "dev.tsv"), "--source-column", "1", "--target-column", "0", "--source-vocab-size", "1500",
            "--target-vocab-size", "600", "--d-model", "32", "--hidden-size", "32", "--encoder-layers", "1",
            "--decoder-layers", "1", "--epochs", "1", "--batch-tokens", "1024", "--valid-score-limit", "20",
            "--threads", "2", "--log-format", "json", "--out", out)
        with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["architecture"]["arch"], "lstm")
        rows = run("predict", "--model", out, stdin=SOURCES[0] + "\n").stdout.splitlines()
        self.assertEqual(len(rows), 1)
        self.assertIn("text", json.loads(rows[0]))

    def test_predict_prints_json_lines_with_text(self):
        out = run("predict", "--model", self.model, "--beam-size", "1", stdin="\n".join(SOURCES) + "\n")
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual(len(rows), 3)
        for r in rows:
            self.assertIsInstance(r["text"], str)
            self.assertLessEqual(r["score"], 0.0)


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server("--no-auth")

    @classmethod
    def tearDownClass(cls):
        assert cls.s.stop() == 0

    def translate(self, body):
        return self.s.request("POST", "/v1/translations", body)

    def test_translations_match_the_command_line(self):
        st, body, _ = self.translate({"model": "zh-en", "input": SOURCES, "beam_size": 1})
        self.assertEqual(st, 200, body)
        self.assertEqual((body["model"], body["version"]), ("zh-en", "1"))
        self.assertEqual([t["index"] for t in body["translations"]], [0, 1, 2])
        cli = run("predict", "--model", os.path.join(WORK, "models", "zh-en", "1"), "--beam-size", "1",
                  stdin="\n".join(SOURCES) + "\n").stdout.splitlines()
        self.assertEqual([t["text"] for t in body["translations"]], [json.loads(line)["text"] for line in cli])
        st, one, _ = self.translate({"model": "zh-en/1", "input": SOURCES[0], "max_tokens": 3})
        self.assertEqual(st, 200, one)
        self.assertEqual(len(one["translations"]), 1)

    def test_concurrent_requests_get_their_own_answers(self):
        alone = {src: self.translate({"model": "zh-en", "input": src})[1]["translations"][0]["text"] for src in SOURCES}
        results, errors = {}, []

        def worker(i):
            src = SOURCES[i % 3]
            st, body, _ = self.translate({"model": "zh-en", "input": src})
            if st != 200:
                errors.append(body)
            else:
                results[i] = (src, body["translations"][0]["text"])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for src, text in results.values():
            self.assertEqual(text, alone[src])

    def test_kserve_infer_and_metadata(self):
        body = {"id": "r1", "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": SOURCES[:2]}]}
        st, out, _ = self.s.request("POST", "/v2/models/zh-en/infer", body)
        self.assertEqual(st, 200, out)
        self.assertEqual(out["id"], "r1")
        self.assertEqual((out["outputs"][0]["name"], out["outputs"][0]["datatype"], out["outputs"][0]["shape"]),
                         ("translation", "BYTES", [2]))
        st, meta, _ = self.s.request("GET", "/v2/models/zh-en")
        self.assertEqual(meta["outputs"][0]["name"], "translation")
        st, models, _ = self.s.request("GET", "/v1/models/zh-en")
        self.assertEqual((models["task"], models["source_language"], models["target_language"]),
                         ("translation", "zh", "en"))

    def test_errors_name_the_field(self):
        cases = [({"model": "zh-en", "input": "你好", "source_language": "de"}, 400, "source_language"),
                 ({"model": "zh-en", "input": "你好", "beam_size": 0}, 400, "beam_size"),
                 ({"model": "zh-en", "input": "你好", "max_tokens": 5000}, 400, "max_tokens"),
                 ({"model": "zh-en", "input": []}, 400, "input"),
                 ({"model": "nope", "input": "你好"}, 404, "model")]
        for body, status, param in cases:
            st, out, _ = self.translate(body)
            self.assertEqual(st, status, (body, out))
            self.assertEqual(out["error"]["param"], param, out)
        st, out, _ = self.s.request("POST", "/v1/classify", {"model": "zh-en", "input": "你好"})
        self.assertEqual((st, out["error"]["code"]), (400, "wrong_model_task"), out)
        self.assertEqual(self.translate({"model": "zh-en", "input": "你好"})[0], 200)

    def test_python_sdk_translate(self):
        sys.path.insert(0, SDK)
        import lmaas
        client = lmaas.Client("http://127.0.0.1:%d" % self.s.port)
        r = client.translate(SOURCES[:2], model="zh-en", source_language="zh", target_language="en", beam_size=2)
        self.assertEqual(len(r.translations), 2)
        self.assertIsInstance(r.translations[0], lmaas.Translation)
        with self.assertRaises(lmaas.InvalidRequestError):
            client.translate("你好", model="zh-en", target_language="fr")


if __name__ == "__main__":
    LMAAS, DATA, SDK = sys.argv[1], sys.argv[2], sys.argv[3]
    unittest.main(argv=sys.argv[:1], verbosity=2)
