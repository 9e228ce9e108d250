# unionshim: a plain Makefile. `make` builds build/libunionshim.so and the
# tools; `make check` runs every test; `make install` honours PREFIX/DESTDIR.
# WERROR=1 (set by CI) turns warnings into errors. SANITIZE=1 builds the
# library, the tools and the unit tests with ASan+UBSan, TSAN=1 with
# ThreadSanitizer; give each its own build dir (`make B=build-asan
# SANITIZE=1`). `make check-sanitize` builds both and runs the unit tests,
# a subset of the bats files and the threaded stress probe under them.
# `make fuzz` builds the libFuzzer targets (clang); `make check` replays
# their corpora without clang.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/unionshim
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wpointer-arith -Wcast-align -Wwrite-strings -Wundef \
	-Wvla -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(TSAN),1)
SANFLAGS := -fsanitize=thread
endif
# The library runs on other people's stacks (a runtime's 32 KiB thread, a
# signal handler's alternate stack): no function of shim/ (the preload
# library, the audit module and the core objects in them) may use more
# than 8 KiB of stack; big buffers go to the per-thread scratch
# (include/unionshim/scratch.h). An error with WERROR=1. Sanitizer
# builds grow every frame by design: not checked there.
ifeq ($(SANFLAGS),)
STACK_FLAGS := -Wstack-usage=8192 -Walloca
endif
CPPFLAGS += -D_GNU_SOURCE -Iinclude
ALL_CFLAGS = $(CPPFLAGS) $(WARN) $(CFLAGS) -std=gnu11 -fPIC

B ?= build
CORE_SRC := $(wildcard shim/core/*.c)
SHIM_SRC := $(wildcard shim/*.c shim/fdmap/*.c shim/wrap/*.c shim/libc/*.c)
CORE_SHIM_OBJ := $(CORE_SRC:%.c=$(B)/preload/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(B)/preload/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/plain/%.o)
# Headers are found by the compiler (-MMD -MP: a .d file beside each
# object, read below): touching one rebuilds only what includes it.
# CORE_HDRS: what a plain program linking the core may include.
CORE_HDRS := $(wildcard include/unionshim/*.h shim/core/*.h)
DEPFLAGS = -MMD -MP -MF $(@:.o=.d)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/unit/%.o)
PROBE_SRC := $(wildcard tests/probes/*.c)
PROBES := $(PROBE_SRC:tests/probes/%.c=$(B)/probes/%)
FAULT_LIBS := $(B)/probes/libfailmalloc.so $(B)/probes/libchangelower.so
TOOLS := $(B)/unionrun $(B)/unionctl
UNIONCTL_SRC := $(wildcard tools/unionctl/*.c)
BENCH_BIN := $(B)/bench/opbench
UNIONCTL_PKGS := libarchive nettle
TRACE_LIB := $(B)/libunionshim-trace.so
AUDIT_LIB := $(B)/libunionshim-audit.so
AUDIT_SRC := $(wildcard shim/audit/*.c)
AUDIT_OBJ := $(AUDIT_SRC:%.c=$(B)/audit/%.o) $(CORE_SRC:%.c=$(B)/audit/%.o)

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

SHELL := /bin/bash

.PHONY: all check check-sanitize unit names bats probes install uninstall clean bench fuzz fuzz-replay
all: $(B)/libunionshim.so $(TRACE_LIB) $(AUDIT_LIB) $(TOOLS) $(PROBES) $(FAULT_LIBS) $(BENCH_BIN)

# A sanitizer build renames the wrappers the sanitizer runtime itself calls
# (listed in shim/sanrt.c): its uninstrumented entries stand in front.
ifneq ($(SANFLAGS),)
SANRT_SED := s/.*SANRT_NAME[(]([a-z0-9_]+)[)].*/\1/p; s/^SANRT_ENTRY[(][^,]*, ([a-z0-9_]+),.*/\1/p
SANRT_NAMES := $(sort $(filter-out name,$(shell sed -En '$(SANRT_SED)' shim/sanrt.c)))
SANRT_RENAME = $(if $(filter %/sanrt.o,$@),,objcopy \
	$(foreach n,$(SANRT_NAMES),--redefine-sym $(n)=us_sanrt_body_$(n)) $@)
endif

# An object without its .d (built before, or the .d removed) is rebuilt:
# the .d is a prerequisite that, when missing, is "made" by an empty rule.
DEPS := $(patsubst %.o,%.d,$(CORE_SHIM_OBJ) $(SHIM_OBJ) $(CORE_OBJ) $(AUDIT_OBJ) $(UNIT_OBJ))
$(DEPS):
include $(wildcard $(DEPS))

$(B)/preload/%.o: %.c $(B)/preload/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SANFLAGS) $(STACK_FLAGS) -DUNIONSHIM_PRELOAD -include shim/names.h -fno-partial-inlining -fvisibility=hidden -ftls-model=initial-exec -c $< -o $@
	$(SANRT_RENAME)

$(B)/plain/%.o: %.c $(B)/plain/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SANFLAGS) -c $< -o $@

# The export list comes from the same table as the real-function pointers.
$(B)/exports.map: shim/wrapfuncs.def
	@mkdir -p $(@D)
	{ echo '{ global:'; \
	  printf '#define WRAP(r, n, p) n;\n#define OWN(n) n;\n#define REAL(r, n, p)\n#include "wrapfuncs.def"\n' \
	    | $(CC) -E -P -Ishim - | tr -s ' ;' '\n' | grep -v '^$$' | sed 's/$$/;/'; \
	  echo 'local: *; };'; } > $@.tmp && mv $@.tmp $@

# US_SELF(name), the library's own call of its wrapper (shim/names.h): a
# hidden symbol the linker sets to the exported one, for every name in
# the table that the library calls.
$(B)/self.ld: shim/wrapfuncs.def
	@mkdir -p $(@D)
	printf '#define WRAP(r, n, p) PROVIDE_HIDDEN(us_self_##n = n);\n#define OWN(n) PROVIDE_HIDDEN(us_self_##n = n);\n#define REAL(r, n, p)\n#include "wrapfuncs.def"\n' \
	    | $(CC) -E -P -Ishim - | tr -s ' ' | sed 's/;[[:space:]]*/;\n/g' | grep -v '^[[:space:]]*$$' > $@.tmp && mv $@.tmp $@

# Lazy binding: the library imports ~90 libc functions; bound at load
# (-z now) they cost a symbol lookup each in every process, ~50,000
# instructions per exec, where a program calls a handful (ld.so's resolver
# takes no lock: safe in a signal handler and a forked child).
# The linker's default segments are kept (code apart from read-only data
# and headers): two segments (-z noseparate-code) would save one mmap, one
# mapping and a page fault per library per exec, at the price of making
# the headers and read-only data of a library loaded into every process
# executable; not worth it.
LOAD_SEGMENTS :=
$(B)/libunionshim.so: $(CORE_SHIM_OBJ) $(SHIM_OBJ) $(B)/exports.map $(B)/self.ld
	$(CC) $(SANFLAGS) -shared -o $@ $(CORE_SHIM_OBJ) $(SHIM_OBJ) $(B)/self.ld -Wl,--version-script=$(B)/exports.map \
		-Wl,-z,lazy -Wl,-z,relro $(LOAD_SEGMENTS) -ldl -lpthread

# Backtraces for UNIONSHIM_TRACE=2, loaded only then (libunwind stays out
# of every other process).
$(TRACE_LIB): shim/trace/backtrace.c shim/trace/frames.h
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -shared -o $@ shim/trace/backtrace.c -lunwind

# The loader's searches through the union (LD_AUDIT): ld.so loads it into a
# namespace of its own in every process, so it links no libc (that would be
# a second libc mapped, relocated and started per exec): sysraw.c,
# strfmt.c and heap.c are the few libc functions it calls, built so that
# no loop of theirs becomes a call of itself; the only library it names is
# ld.so (already in every namespace). The core is linked in plain (no
# wrappers, no sanitizer), hidden.
# An empty DT_RUNPATH keeps ld.so from searching the program's DT_RPATH for
# a library of ours: a search there would mark the program's union-only
# RPATH dirs as missing before the program's own libraries are looked up.
RTLD ?= $(shell readelf -l /bin/sh 2>/dev/null | sed -n 's/.*interpreter: \(.*\)\]$$/\1/p')
AUDIT_CFLAGS := -DUNIONSHIM_AUDIT -fvisibility=hidden -ffunction-sections -fdata-sections \
	-fno-stack-protector
$(B)/audit/shim/audit/%.o: shim/audit/%.c $(B)/audit/shim/audit/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(STACK_FLAGS) $(AUDIT_CFLAGS) -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -c $< -o $@

$(B)/audit/%.o: %.c $(B)/audit/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(STACK_FLAGS) $(AUDIT_CFLAGS) -c $< -o $@

# Linked against a stub whose soname is ld.so's full path (shim/audit/rtld/).
RTLD_STUB := $(B)/audit/rtld-stub.so
$(RTLD_STUB): shim/audit/rtld/stub.c shim/audit/rtld/stub.map
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -shared -nostdlib -o $@ shim/audit/rtld/stub.c \
		-Wl,--version-script=shim/audit/rtld/stub.map -Wl,-soname,$(RTLD)

$(AUDIT_LIB): $(AUDIT_OBJ) $(RTLD_STUB)
	$(CC) -shared -nostdlib -o $@ $(filter $(B)/audit/shim/audit/%,$^) \
		-Wl,--start-group $(filter $(B)/audit/shim/core/%,$^) -Wl,--end-group \
		$(RTLD_STUB) -lgcc -Wl,--no-undefined \
		-Wl,-z,now -Wl,-z,relro $(LOAD_SEGMENTS) -Wl,--gc-sections -Wl,--enable-new-dtags -Wl,-rpath=

$(B)/libuscore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

UNIONRUN_SRC := $(wildcard tools/unionrun/*.c)
$(B)/unionrun: $(UNIONRUN_SRC) $(wildcard tools/unionrun/*.h) $(B)/libuscore.a $(CORE_HDRS)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $(UNIONRUN_SRC) $(B)/libuscore.a

# unionctl: layers offline (export needs libarchive for the formats and
# nettle, which libarchive uses too, for the digests).
$(B)/unionctl: $(UNIONCTL_SRC) $(wildcard tools/unionctl/*.h) $(B)/libuscore.a $(CORE_HDRS)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) $$(pkg-config --cflags $(UNIONCTL_PKGS)) -o $@ \
		$(UNIONCTL_SRC) $(B)/libuscore.a $$(pkg-config --libs $(UNIONCTL_PKGS))

$(B)/probes/%: tests/probes/%.c $(wildcard tests/probes/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $<

# Fault injection helpers preloaded by tests/bats/faults.bats (tests/lib/).
$(B)/probes/lib%.so: tests/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

$(B)/unit/%.o: %.c $(B)/unit/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(SANFLAGS) -Ishim/core -c $< -o $@

$(B)/unit-tests: $(UNIT_OBJ) $(B)/libuscore.a
	$(CC) $(SANFLAGS) -o $@ $(UNIT_OBJ) $(B)/libuscore.a $(CHECK_LIBS)

# Fuzz targets (tests/fuzz/fuzz_NAME.c; inputs written by hand in
# tests/fuzz/seeds/NAME, the minimized corpus in tests/fuzz/corpus/NAME):
# the core files they test are compiled into each binary. The replay in
# `make check` uses replay.c as its main and ASan/UBSan; `make fuzz` links
# libFuzzer instead (tests/fuzz/run runs one and minimizes its corpus).
FUZZ_NAMES := config path fdmaptext
FUZZ_CORE := shim/core/config.c shim/core/layer.c shim/core/path.c shim/core/fdmaptext.c \
	shim/core/longpath.c shim/core/scratch.c shim/core/ownalloc.c
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CC ?= clang
FUZZ_DEPS = tests/fuzz/fuzz.h $(FUZZ_CORE) $(CORE_HDRS)

$(B)/fuzz-replay/%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ishim/core $(WARN) $(CFLAGS) -std=gnu11 $(FUZZ_SAN) -o $@ $< tests/fuzz/replay.c $(FUZZ_CORE)

$(B)/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -Ishim/core $(WARN) -O1 -g -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(FUZZ_CORE)

fuzz: $(FUZZ_NAMES:%=$(B)/fuzz/%)

fuzz-replay: $(FUZZ_NAMES:%=$(B)/fuzz-replay/%)
	@for n in $(FUZZ_NAMES); do \
		$(B)/fuzz-replay/$$n tests/fuzz/seeds/$$n tests/fuzz/corpus/$$n || exit 1; done

unit: $(B)/unit-tests
	CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-60} $(B)/unit-tests

# bats prints TAP; the last line sums it up ("N passed, N failed").
bats: all
	@set -o pipefail; UNIONSHIM_BUILD=$(abspath $(B)) bats tests/bats | \
		awk '{ print } /^ok .*# skip/ { s++; next } /^ok / { p++ } /^not ok / { f++ } \
		END { printf "bats: %d passed, %d failed, %d skipped\n", p, f, s }'


# The exports and the shim's calls of its own names (tests/check-names).
names: $(B)/libunionshim.so
	CC="$(CC)" ALL_CFLAGS="$(ALL_CFLAGS)" tests/check-names $(B)

check: all unit names fuzz-replay bats

# The sanitizer builds, each in its own dir, and the tests run under them
# (tests/san/run): the bats files that exercise most of the library quickly.
SAN_BATS := copyup fdmap fresh_locks exec lower_routes lower_guard getdents \
	errno door spawn_actions lcache
check-sanitize:
	$(MAKE) B=build-asan SANITIZE=1 TSAN= all build-asan/unit-tests
	$(MAKE) B=build-tsan TSAN=1 SANITIZE= all
	tests/san/run build-asan build-tsan $(SAN_BATS:%=tests/bats/%.bats)

# The benchmark (tests/bench/run): native, overlayfs and the shim side by
# side, a table on stdout and $(B)/bench.json. BENCH_ARGS passes options
# (--reps N, --only OP,OP, --quick).
$(BENCH_BIN): tests/bench/opbench.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $<

bench: all
	UNIONSHIM_BUILD=$(abspath $(B)) tests/bench/run $(BENCH_ARGS)

# Programs to BINDIR, the libraries to LIBDIR (unionrun finds them at
# ../lib/unionshim from its own dir), the man pages to MANDIR.
MAN1 := $(wildcard man/*.1)
MAN7 := $(wildcard man/*.7)
LIBS := $(B)/libunionshim.so $(TRACE_LIB) $(AUDIT_LIB)
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(LIBS) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,$(notdir $(LIBS))) \
		$(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))
	-rmdir $(DESTDIR)$(LIBDIR)

clean:
	rm -rf $(B)
