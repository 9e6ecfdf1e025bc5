# lmaas — entry points. `make test` on a fresh Debian 12 machine installs what is missing, builds, tests.
JOBS ?= $(shell nproc)
WERROR ?= OFF
CTEST_ARGS ?=

.PHONY: deps build build-asan test test-asan bench bench-fasttext bench-serve bench-translation models models-translation serve clean fuzz

deps:
	scripts/install-deps
	scripts/install-node-deps

build: deps
	cmake --preset release -DLMAAS_WERROR=$(WERROR)
	cmake --build --preset release -j $(JOBS)

build-asan: deps
	cmake --preset asan -DLMAAS_WERROR=$(WERROR)
	cmake --build --preset asan -j $(JOBS)

# Every test but the slow ones (labels: unit, gradcheck, golden, e2e, fuzz_smoke, slow).
test: build
	ctest --preset release -LE slow -j $(JOBS) $(CTEST_ARGS)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: build-asan
	ctest --preset asan -L unit -j $(JOBS) $(CTEST_ARGS)

# Side-by-side benchmark against PyTorch (needs `scripts/install-deps --references`).
bench: build
	scripts/install-deps --references
	bench/run_vs_pytorch.sh

# lmaas bow against the fasttext binary on the five classification sets (training time, accuracy).
bench-fasttext: build
	scripts/install-deps --references
	bench/bow_vs_fasttext.sh

# lmaas serve against a FastAPI + uvicorn + PyTorch twin: POST /v1/classify under wrk (bench/README.md).
bench-serve: build
	scripts/install-deps --references
	bench/serve_vs_fastapi.sh

# lmaas against the same transformer trained in PyTorch for the same time: dev BLEU and beam-search speed.
bench-translation: build
	scripts/install-deps --references
	bench/translation_vs_pytorch.sh

# The default models the server ships (sentiment-en, sentiment-zh, question-type) into models/<name>/1/.
models: build
	scripts/train-default-models

# The default translation model (Chinese → English) into models/translate-zh-en/1/: about an hour on 2 cores.
models-translation: build
	scripts/train-default-models --translation

# The README's main command: builds, trains the default models if they are missing, and serves them on
# 127.0.0.1:8080 with the SQLite store under var/ (its first start prints an admin API key, once). The
# translation model is served when present (make models-translation).
serve: models
	@test -f models/translate-zh-en/1/config.json || \
	  echo "serve: no translation model; 'make models-translation' trains translate-zh-en (about an hour), then it is served too"
	build/release/lmaas serve --models models --data-dir var

# libFuzzer + ASan/UBSan on the GGUF parser (clang, own build dir; not needed by `make test`, whose
# fuzz_smoke tests replay the same target through tests/fuzz/fuzz_driver.cpp): `make fuzz FUZZ_SECONDS=600`.
# New inputs go to $(FUZZ_BUILD)/corpus/gguf; crashes to $(FUZZ_BUILD)/crash-*.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build/fuzz
fuzz:
	scripts/install-deps --fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMAAS_SANITIZE=ON \
	  -DLMAAS_FUZZ=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link
	cmake --build $(FUZZ_BUILD) --target gguf_fuzz -j $(JOBS)
	mkdir -p $(FUZZ_BUILD)/corpus/gguf
	$(FUZZ_BUILD)/tests/fuzz/gguf_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/gguf tests/fuzz/corpus/gguf

clean:
	rm -rf build
