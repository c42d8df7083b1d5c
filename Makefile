# anomaly: anomaly detection models trained and scored inside PostgreSQL.
#
#   make                     build the extension (PGXS)
#   make install             install it (as root)
#   make installcheck        pg_regress tests against a running server
#   make unit                build and run the core unit tests (no server)
#   make WERROR=1 ...        warnings are errors (CI)
#   make version             print the extension version (from anomaly.control)

EXTENSION = anomaly
# the version is set once, in anomaly.control (default_version)
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = anomaly
CORE_SRCS = $(sort $(wildcard src/core/*.c))
PG_SRCS = $(sort $(wildcard src/pg/*.c))
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)

# extension scripts live at the root, as in contrib and pg_cron: full
# install scripts (anomaly--X.sql) and upgrade steps (anomaly--X--Y.sql)
DATA = $(sort $(wildcard $(EXTENSION)--*.sql)) $(wildcard $(EXTENSION)--*.control)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=test/regress_out --load-extension=anomaly

WARNINGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
OPTFLAGS ?= -O2
PG_CFLAGS = -std=gnu11 $(WARNINGS) $(OPTFLAGS)
PG_CPPFLAGS = -I$(CURDIR)/include
SHLIB_LINK = -lmsgpackc -ldl -lm -lpthread

EXTRA_CLEAN = build test/regress_out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies: rebuild everything when a
# header changes (a struct's layout must agree across objects)
$(OBJS): $(wildcard include/anomaly/*.h)

# ---- the PostgreSQL-free core: static library and unit tests ----

CORE_CC ?= cc
CORE_CFLAGS = -std=gnu11 -g $(OPTFLAGS) -fPIC $(WARNINGS) -Iinclude $(CORE_EXTRA_CFLAGS)
CORE_OBJS = $(patsubst src/core/%.c,build/core/%.o,$(CORE_SRCS))
UNIT_SRCS = $(sort $(wildcard test/unit/*.c))

build/core/%.o: src/core/%.c $(wildcard include/anomaly/*.h)
	@mkdir -p build/core
	$(CORE_CC) $(CORE_CFLAGS) -c -o $@ $<

build/libanomaly_core.a: $(CORE_OBJS)
	rm -f $@
	ar rcs $@ $^

build/test_core: $(UNIT_SRCS) build/libanomaly_core.a $(wildcard test/unit/*.h)
	$(CORE_CC) $(CORE_CFLAGS) -Itest/unit -o $@ $(UNIT_SRCS) build/libanomaly_core.a \
		-lmsgpackc -ldl -lm -lpthread

.PHONY: unit
unit: build/test_core
	./build/test_core

# core-only quality driver, for tuning methods without a server
build/core_quality: test/bench/core_quality.c build/libanomaly_core.a
	$(CORE_CC) $(CORE_CFLAGS) -o $@ $< build/libanomaly_core.a -lmsgpackc -ldl -lm -lpthread

.PHONY: version
version:
	@echo $(EXTVERSION)

# ---- fuzzing (clang's libFuzzer; test/sh/fuzz.sh, docs/security.md) ----
#   make fuzz      build/fuzz/fuzz_model, fuzz_options and make_seeds, from
#                  the core sources with address and undefined-behaviour
#                  sanitizers; no server needed

FUZZ_CC ?= clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# clang 14 does not export target_clones functions (no global ifunc symbol):
# the fuzz build compiles them once, for the baseline
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -Iinclude \
	-Wall -Wno-unused-parameter -Wno-sign-compare '-Dtarget_clones(...)=unused'
FUZZ_OBJS = $(patsubst src/core/%.c,build/fuzz/core/%.o,$(CORE_SRCS))
FUZZ_LIBS = -lmsgpackc -ldl -lm -lpthread

build/fuzz/core/%.o: src/core/%.c $(wildcard include/anomaly/*.h)
	@mkdir -p build/fuzz/core
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)

build/fuzz/make_seeds: test/fuzz/make_seeds.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)

.PHONY: fuzz
fuzz: build/fuzz/fuzz_model build/fuzz/fuzz_options build/fuzz/make_seeds
