#!/usr/bin/env python3
"""Pretrained language models through the real binary (standard library only):
`lmaas generate` reproduces llama2.c's greedy output for stories260K (from the .bin checkpoint and from the
GGUF file `lmaas convert` writes), `lmaas tokenize` reproduces llama.cpp's tokenizer vectors, `lmaas
quantize` writes a model that still generates, a Hugging Face checkpoint generates the same text directly and
converted to GGUF, `lmaas convert --format hf` writes one that does too (from llama2.c and from quantized
GGUF), `lmaas bench --llm` prints its JSON line, and bad input gives
a clear error and exit code 1.
    tests/e2e/llm_cli_test.py path/to/lmaas path/to/shared/data
"""
import json, os, subprocess, sys, tempfile, unittest

LMAAS = DATA = WORK = None


def run(*args, stdin=None, check=True):
    return subprocess.run([LMAAS] + list(args), input=stdin, capture_output=True, check=check)


def stories(name="stories260K.bin"):
    return os.path.join(DATA, "models/stories260K", name)


def reference():
    with open(stories("reference/greedy_and_logits.json"), encoding="utf-8") as f:
        return json.load(f)


def vector_cases(vocab):
    base = os.path.join(DATA, "tokenizer-vectors/llama.cpp", "ggml-vocab-%s.gguf" % vocab)
    with open(base + ".inp", "rb") as f:
        raw = f.read()
    sep = b"\n__ggml_vocab_test__\n"
    texts = raw.split(sep)
    if texts and texts[-1] == b"":
        texts.pop()
    with open(base + ".out", encoding="utf-8") as f:
        ids = [line.split() for line in f.read().split("\n")[:len(texts)]]
    return base, list(zip(texts, ids))


class Generate(unittest.TestCase):
    def test_greedy_text_equals_llama2c_from_bin_and_gguf(self):
        ref = reference()
        gguf = os.path.join(WORK, "stories260K.gguf")
        run("convert", "--input", stories(), "--output", gguf)
        for model in (stories(), gguf):
            for case in ref["cases"]:
                n = len(case["token_ids_after_bos"]) - (len(case["prompt_token_ids"]) - 1)
                out = run("generate", "--model", model, "--prompt", case["prompt"], "--temperature", "0",
                          "--max-tokens", str(n), "--threads", "2").stdout.decode()
                self.assertEqual(case["prompt"] + out.rstrip("\n"), case["text"], (model, case["prompt"]))

    def test_hugging_face_checkpoint_and_its_gguf_conversion(self):
        hf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "fixtures", "llm",
                          "hf-stories260K")
        gguf = os.path.join(WORK, "from-hf.gguf")
        run("convert", "--input", hf, "--output", gguf)
        case = reference()["cases"][1]
        n = len(case["token_ids_after_bos"]) - (len(case["prompt_token_ids"]) - 1)
        for model in (hf, gguf):
            out = run("generate", "--model", model, "--prompt", case["prompt"], "--temperature", "0",
                      "--max-tokens", str(n), "--threads", "2").stdout.decode()
            self.assertEqual(case["prompt"] + out.rstrip("\n"), case["text"], model)
        self.assertEqual(run("tokenize", "--model", hf, stdin=b"Once upon a time\n").stdout.split(),
                         [b"403", b"407", b"261", b"378"])

    def test_written_hugging_face_checkpoint_generates_the_same_text(self):
        case = reference()["cases"][1]
        n = len(case["token_ids_after_bos"]) - (len(case["prompt_token_ids"]) - 1)
        hf = os.path.join(WORK, "hf-out", "stories")
        run("convert", "--input", stories(), "--output", hf, "--format", "hf")
        for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                     "generation_config.json"):
            self.assertTrue(os.path.exists(os.path.join(hf, name)), name)
        out = run("generate", "--model", hf, "--prompt", case["prompt"], "--temperature", "0",
                  "--max-tokens", str(n), "--threads", "2").stdout.decode()
        self.assertEqual(case["prompt"] + out.rstrip("\n"), case["text"])
        # A quantized input is written as float16 unless --type says otherwise; q8_0 is not an HF type.
        q8 = os.path.join(WORK, "hf-q8.gguf")
        run("quantize", stories(), q8, "q8_0")
        from_q8 = os.path.join(WORK, "hf-out", "from-q8")
        run("convert", "--input", q8, "--output", from_q8, "--format", "hf")
        with open(os.path.join(from_q8, "config.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["torch_dtype"], "float16")
        out = run("generate", "--model", from_q8, "--prompt", case["prompt"], "--max-tokens", "8").stdout.decode()
        self.assertTrue(out.strip())
        refused = run("convert", "--input", q8, "--output", os.path.join(WORK, "hf-out", "q8"), "--format", "hf",
                      "--type", "q8_0", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("not q8_0", refused.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(WORK, "hf-out", "q8")))

    def test_model_directory_round_trip(self):
        case = reference()["cases"][1]
        bundle = os.path.join(WORK, "bundle", "stories", "1")
        run("convert", "--input", stories(), "--output", bundle)  # no .gguf: an lmaas model directory
        with open(os.path.join(bundle, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        self.assertEqual((config["task"], config["file"], config["format_version"]), ("generation", "model.gguf", 1))
        back = os.path.join(WORK, "back.gguf")
        run("convert", "--input", bundle, "--output", back)
        for model in (bundle, back):
            out = run("generate", "--model", model, "--prompt", case["prompt"], "--temperature", "0",
                      "--max-tokens", "20").stdout.decode()
            self.assertTrue(case["text"].startswith(case["prompt"] + out.rstrip("\n")), model)

    def test_quantized_model_generates_and_seed_repeats(self):
        q8 = os.path.join(WORK, "stories-q8_0.gguf")
        run("convert", "--input", stories(), "--output", os.path.join(WORK, "f32.gguf"))
        run("quantize", os.path.join(WORK, "f32.gguf"), q8, "q8_0")
        args = ["generate", "--model", q8, "--prompt", "The cat", "--max-tokens", "30", "--seed", "7",
                "--temperature", "0.9"]
        first, second = run(*args).stdout, run(*args).stdout
        self.assertEqual(first, second)
        self.assertGreater(len(first.strip()), 10)

    def test_timings_and_stop_sequences(self):
        out = run("generate", "--model", stories(), "--prompt", "Once upon a time", "--temperature", "0",
                  "--max-tokens", "60", "--stop", "Lily", "--timings")
        self.assertEqual(out.stdout.decode(), ", there was a little girl named \n")
        timings = json.loads(out.stderr.decode().strip().splitlines()[-1])
        self.assertEqual(timings["prompt_tokens"], 5)
        self.assertGreater(timings["generation_tokens_per_s"], 0)


class Tokenize(unittest.TestCase):
    def test_llama_cpp_vectors(self):
        for vocab in ("llama-spm", "gpt-2", "bert-bge", "phi-3"):
            base, cases = vector_cases(vocab)
            self.assertEqual(len(cases), 46, vocab)
            for text, ids in cases:
                out = run("tokenize", "--model", base, "--raw", stdin=text).stdout.decode()
                self.assertEqual(out.split(), ids, (vocab, text))

    def test_line_by_line_and_special_tokens(self):
        out = run("tokenize", "--model", stories(), stdin=b"Once upon a time\nThe dog\n").stdout.decode()
        self.assertEqual(out, "403 407 261 378\n291 400 428\n")
        out = run("tokenize", "--model", stories(), "--add-special", stdin=b"Lily and Tom\n").stdout.decode()
        self.assertEqual(out.split(), [str(i) for i in reference()["cases"][2]["prompt_token_ids"]])


class Bench(unittest.TestCase):
    def test_random_model_can_carry_a_real_tokenizer(self):
        vocab = os.path.join(DATA, "tokenizer-vectors/llama.cpp/ggml-vocab-llama-spm.gguf")
        out = os.path.join(WORK, "random-spm.gguf")
        run("convert", "--random-llama", "--dim", "64", "--ff", "128", "--layers", "1", "--heads", "2",
            "--tokenizer", vocab, "--output", out)
        text = b"Once upon a time\n"
        self.assertEqual(run("tokenize", "--model", out, stdin=text).stdout, run("tokenize", "--model", vocab, stdin=text).stdout)
        self.assertEqual(run("generate", "--model", out, "--prompt", "Once upon a time", "--max-tokens", "3",
                             "--temperature", "0").returncode, 0)

    def test_llm_bench_prints_one_json_line(self):
        out = run("bench", "--llm", stories(), "--prompt-tokens", "32", "--gen-tokens", "8", "--repetitions", "1",
                  "--threads", "2", "--no-bandwidth").stdout.decode()
        j = json.loads(out)
        self.assertGreater(j["pp_tokens_per_s"], 0)
        self.assertGreater(j["tg_tokens_per_s"], 0)
        self.assertEqual(j["weight_type"], "f32")
        self.assertEqual(j["sequences"], 1)

    def test_llm_bench_generates_several_sequences_together(self):
        out = run("bench", "--llm", stories(), "--prompt-tokens", "0", "--gen-tokens", "8", "--sequences", "4",
                  "--repetitions", "1", "--threads", "2", "--no-bandwidth").stdout.decode()
        j = json.loads(out)
        self.assertEqual(j["sequences"], 4)
        self.assertGreater(j["tg_tokens_per_s"], 0)


class Errors(unittest.TestCase):
    def test_missing_and_corrupt_files_are_named(self):
        out = run("generate", "--model", os.path.join(WORK, "missing.gguf"), "--prompt", "x", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("missing.gguf", out.stderr.decode())
        cut = os.path.join(WORK, "cut.gguf")
        with open(os.path.join(DATA, "tokenizer-vectors/llama.cpp/ggml-vocab-gpt-2.gguf"), "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:100000])
        out = run("tokenize", "--model", cut, stdin=b"hi\n", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cut.gguf", out.stderr.decode())
        out = run("convert", "--input", stories(), "--output", os.path.join(WORK, "x.gguf"), "--type", "q3_k",
                  check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("q3_k", out.stderr.decode())

    def test_a_prompt_longer_than_the_context_is_refused(self):
        out = run("generate", "--model", stories(), "--prompt", "Once upon a time " * 200, "--max-tokens", "10",
                  check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("context is 512 tokens", out.stderr.decode())


if __name__ == "__main__":
    LMAAS, DATA = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    WORK = tempfile.mkdtemp(prefix="lmaas-llm-cli-test-")
    unittest.main(argv=sys.argv[:1], verbosity=2)
