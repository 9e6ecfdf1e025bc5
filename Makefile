# lmaas — entry points. `make test` on a fresh Debian 12 machine installs what is missing, builds, tests.
JOBS ?= $(shell nproc)
WERROR ?= OFF
CTEST_ARGS ?=

.PHONY: deps build build-asan test test-asan bench bench-fasttext models serve clean

deps:
	scripts/install-deps

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

# The default models the server ships (sentiment-en, sentiment-zh, question-type) into models/<name>/1/.
models: build
	scripts/train-default-models

# Until the server lands: builds, shows the commands, and runs the seed example (the seed document's
# Keras program on lmaas' public C++ API, examples/seed_example.cpp).
serve: build
	build/release/lmaas --help
	build/release/seed_example

clean:
	rm -rf build
