# bark: `make run` starts a dev server, `make test` runs every test. Both install what is missing.
BUILD      ?= build
BUILD_SAN  ?= build-sanitize
BUILD_FUZZ ?= build-fuzz
BUILD_TSAN ?= build-tsan
BUILD_URING ?= build-io-uring
JOBS       ?= 2
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build run install test test-sanitize test-tsan test-io-uring test-io-uring-run fuzz fuzz-build fuzz-smoke bench clean format tidy

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@mkdir -p var
	@echo "bark: open http://127.0.0.1:8080/ in a browser"
	$(BUILD)/bin/bark --dev --listen 127.0.0.1:8080 --store sqlite:var/bark.db

# The binaries, demo page, example configuration and systemd unit under PREFIX (DESTDIR works).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Unit and integration tests, then a short fuzz run of every parser target. A test that fails is
# run once more (its first failure stays in the output): integration.events_kafka fails now and
# then on a loaded machine (a read mark short of the room's last message after a kill -9), under
# investigation; a test that fails twice fails the run.
CTEST_REPEAT ?= --repeat until-pass:2
test: build fuzz-smoke
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 300 $(CTEST_REPEAT)

test-sanitize: deps
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Sanitize -DBARK_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_SAN) -j$(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) --timeout 300 $(CTEST_REPEAT)

# ThreadSanitizer over the threaded parts: the unit tests (stores with their threads, broker) and
# the integration tests that cross threads (chat over the store, catch-up, SockJS, the cluster,
# the store going away and coming back, the graceful stop).
TSAN_TESTS ?= ^integration\.(pubsub|chat|catchup|sockjs_stomp|cluster|cluster_kafka|commands|stomp_tcp|crash|tls|store_outage|shutdown|presence|admin)$$
test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Tsan -DBARK_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD_TSAN) -j$(JOBS)
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
	  ctest --output-on-failure -j$(JOBS) --timeout 600 -L unit
	cd $(BUILD_TSAN) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
	  ctest --output-on-failure -j1 --timeout 600 -R '$(TSAN_TESTS)'

# The integration tests against a build whose event loops run on io_uring (-DBARK_IO_URING=ON), for
# a kernel that allows it: they run every transport, TLS and the cluster buses through real clients
# and servers, so only the binaries are built.
test-io-uring: deps
	@bash scripts/io-uring-allowed.sh || { echo "test-io-uring: this kernel refuses io_uring: skipped"; exit 0; }; \
	$(MAKE) --no-print-directory test-io-uring-run

test-io-uring-run:
	cmake -S . -B $(BUILD_URING) -DCMAKE_BUILD_TYPE=Release -DBARK_BENCH=OFF -DBARK_IO_URING=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_URING) -j$(JOBS) --target bark bark-bench bark_web
	cd $(BUILD_URING) && ctest --output-on-failure -j$(JOBS) --timeout 300 $(CTEST_REPEAT) -L integration

$(BUILD_FUZZ)/CMakeCache.txt:
	CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DBARK_FUZZ=ON -DBARK_TESTS=OFF -DBARK_BENCH=OFF

fuzz-build: deps $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j$(JOBS)

# Every fuzz target replays its regression inputs, then fuzzes its corpus for a few seconds.
fuzz-smoke: fuzz-build
	@bash scripts/run-fuzzers.sh $(BUILD_FUZZ)/fuzz 10

# Every fuzz target for FUZZ_SECONDS each.
fuzz: fuzz-build
	@bash scripts/run-fuzzers.sh $(BUILD_FUZZ)/fuzz $(FUZZ_SECONDS)

bench: build
	$(BUILD)/bin/bark-micro-bench

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy: build
	run-clang-tidy -p $(BUILD) -quiet -j$(JOBS) -extra-arg=-Wno-unknown-warning-option 'src/bark/.*'

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
