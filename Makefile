# lua-apivideo — build, test and install.
#   make                 build the C core for Lua $(LUA_VERSION) (5.4 by default; 5.1, 5.2, 5.3, jit),
#                        installing that Lua's headers first when missing (as root)
#   eval "$(make -s env)" use this checkout from the shell: LUA_PATH, LUA_CPATH (every Lua) and PATH
#   make test            unit + integration specs against the stand-in (installs missing Debian packages as root)
#   make demo            start the stand-in, print a video's sessions and a session's events, stop it
#   make install         copy the module into LuaRocks-style INST_LIBDIR / INST_LUADIR
#   make test-all        the suite under Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT
#   make asan            the suite with the C core under AddressSanitizer + UBSan
#   make valgrind        the suite under valgrind (definite leaks and memory errors fail)
#   make fuzz            libFuzzer targets, FUZZ_SECONDS each (default 60)
#   make soak            20 000 requests with 5 % faults; memory and fds must stay flat
#   make bench           the benchmark table (BENCH_QUICK=1: a short smoke)
#   make profile         where a walk's CPU goes: perf over whole walks, Lua 5.4 and LuaJIT
#   make docs            API reference (LDoc) into build/docs
#   make check-c         cppcheck + clang-tidy on src/, and check-layers (the C files depend one way)
#   make lint            luacheck + clang-format check
#   make clean
LUA_VERSION ?= 5.4
ifeq ($(LUA_VERSION),jit)
LUA_INCDIR ?= /usr/include/luajit-2.1
LUA ?= luajit
LUA_ABI := 5.1
else
LUA_INCDIR ?= /usr/include/lua$(LUA_VERSION)
LUA ?= lua$(LUA_VERSION)
LUA_ABI := $(LUA_VERSION)
endif
CURL_INCDIR ?= /usr/include
CURL_LIBDIR ?= /usr/lib
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes
LIBFLAG ?= -shared
BUILD ?= build/lua$(LUA_VERSION)
SO := $(BUILD)/apivideo/core.so
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
INST_PREFIX ?= /usr/local
INST_LIBDIR ?= $(INST_PREFIX)/lib/lua/$(LUA_ABI)
INST_LUADIR ?= $(INST_PREFIX)/share/lua/$(LUA_ABI)
INST_BINDIR ?= $(INST_PREFIX)/bin

.PHONY: all build-deps env deps docs check-c check-layers test test-all test-compat asan valgrind fuzz soak bench profile demo install lint format clean

all: build-deps
	@$(MAKE) --no-print-directory $(SO)

# the compiler, libcurl and the Lua of LUA_VERSION with its headers
build-deps:
	@LUA_VERSION=$(LUA_VERSION) sh scripts/deps.sh build

# `eval "$(make -s env)"`: require("apivideo") and apivideo-analytics from this
# checkout, for every Lua whose core is built (make LUA_VERSION=...; LuaJIT
# reads LUA_CPATH as Lua 5.1 does, and the 5.1 build serves both).
env:
	@echo "export LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;'"
	@echo "export LUA_CPATH='$(CURDIR)/build/lua5.1/?.so;;'"
	@for v in 5.2 5.3 5.4; do u=$$(echo $$v | tr . _); \
	  echo "export LUA_CPATH_$$u='$(CURDIR)/build/lua$$v/?.so;;'"; done
	@echo "export PATH='$(CURDIR)/bin':\"\$$PATH\""

$(BUILD)/obj/%.o: src/%.c src/core.h src/compat.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -fPIC -I$(LUA_INCDIR) -I$(CURL_INCDIR) -c $< -o $@

$(SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(CFLAGS) -o $@ $(OBJS) -L$(CURL_LIBDIR) -lcurl -lpthread

deps:
	@sh scripts/deps.sh test

test: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/test.sh

# Every Lua ABI: the module is built with -Werror and the suite runs under each
# (specs tagged #once test version-independent things and run under 5.4 only).
test-all: test-compat test

test-compat:
	@sh scripts/deps.sh all
	@set -e; for v in 5.1 5.2 5.3 jit; do \
	  echo "== Lua $$v"; $(MAKE) --no-print-directory LUA_VERSION=$$v all; \
	  APIVIDEO_SKIP_PRISM=1 LUA_VERSION=$$v sh scripts/test.sh --exclude-tags=once; done

# The whole suite with the module built under AddressSanitizer + UBSan.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The interpreter is linked with the sanitizers too (scripts/lua-main.c), so no
# LD_PRELOAD leaks into the child processes the specs start.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="-O1 -g $(SAN)" LIBFLAG="-shared $(SAN)" all
	$(CC) -std=c99 -Wall -Wextra -Werror -O1 -g $(SAN) -I/usr/include/lua5.4 scripts/lua-main.c \
	  -o build/asan/lua-san -llua5.4 -lm
	@BUILD_DIR=build/asan LUA_BIN=$(CURDIR)/build/asan/lua-san \
	  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 sh scripts/test.sh

# The suite under valgrind; definite leaks and memory errors fail it. The #once
# specs (the stand-in's own speed, Prism, LuaRocks, the C host, nginx) run their
# work in other processes, and their timings mean nothing under valgrind; the #db specs (the archive)
# run LuaDBI and the databases, no C of this project that the others do not.
valgrind: deps
	@$(MAKE) --no-print-directory all
	@APIVIDEO_SLOW=1 TEST_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=$(CURDIR)/valgrind.supp" \
	  sh scripts/test.sh --exclude-tags=once,db

# libFuzzer targets (clang) for every C path that reads outside data; FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

# 20 000 requests through one client with 5 % injected faults: RSS and fds must stay flat.
soak: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/with-standin.sh lua5.4 scripts/soak.lua

# The side-by-side benchmark (bench/README.md); BENCH_QUICK=1 for a short smoke.
bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory LUA_VERSION=jit all
	@bash bench/run.sh

# CPU per page of whole walks split into decode, shaping, GC, zlib, libcurl, kernel and the Lua
# layer (perf; bench/README.md). Part of `make bench` too.
profile: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory LUA_VERSION=jit all
	@bash bench/profile.sh

demo:
	@sh scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: $(SO)
	install -d $(DESTDIR)$(INST_LIBDIR)/apivideo $(DESTDIR)$(INST_LUADIR)/apivideo
	install -m 0755 $(SO) $(DESTDIR)$(INST_LIBDIR)/apivideo/core.so
	install -m 0644 lua/apivideo/*.lua $(DESTDIR)$(INST_LUADIR)/apivideo/
	for d in $$(cd lua/apivideo && find . -mindepth 1 -type d); do \
	  install -d $(DESTDIR)$(INST_LUADIR)/apivideo/$$d; \
	  install -m 0644 lua/apivideo/$$d/*.lua $(DESTDIR)$(INST_LUADIR)/apivideo/$$d/; done
	install -d $(DESTDIR)$(INST_BINDIR)
	install -m 0755 bin/apivideo-analytics $(DESTDIR)$(INST_BINDIR)/apivideo-analytics

# API reference: build/docs/index.html (Debian: lua-ldoc lua-discount)
docs:
	ldoc --fatalwarnings .

# Static analysis of the C core (Debian: cppcheck clang-tidy)
TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,cert-*,-cert-dcl37-c,-cert-dcl51-cpp,misc-*,-misc-no-recursion,performance-*,portability-*
# The C files from the bottom up (notes/c-core.md): each file may only use avc_ symbols defined
# by a file before it in this list; check-layers proves it from the objects' symbol tables.
LAYERS := core buf headers json share transfer wait multi module
# The objects of the C core are opaque: each struct below is defined in its own file (file:struct)
# only, so the compiler refuses a field access anywhere else. check-layers proves that no other
# file sees a definition, from the debug information (DWARF, -g) of the objects: the complete
# struct types the compiler saw there. PUBLIC_STRUCTS are the value types core.h defines on purpose.
PRIVATE_STRUCTS := share:avc_share json:avc_renames transfer:avc_transfer multi:avc_multi
PUBLIC_STRUCTS := avc_buf avc_holder
# `readelf --debug-dump=info` -> the avc_* structs and unions it has complete (an anonymous one by
# the name of its avc_* typedef), one per line
DWARF_STRUCTS := awk 'function flush() { \
    if ((tag == "structure_type" || tag == "union_type") && complete) { \
      if (name ~ /^avc_/) print name; else if (name == "") anon[off] = 1 } \
    if (tag == "typedef" && name ~ /^avc_/) tdef[name] = ref; \
    tag = ""; name = ""; complete = 0; ref = "" } \
  /^ *<[0-9]+><[0-9a-f]+>:/ { flush(); split($$1, p, /[<>]/); off = p[4]; tag = ""; \
    if (match($$0, /DW_TAG_[a-z_]+/)) tag = substr($$0, RSTART + 7, RLENGTH - 7); next } \
  /DW_AT_name/ { name = $$NF } \
  /DW_AT_byte_size/ { complete = 1 } \
  /DW_AT_type/ { ref = $$NF; gsub(/[<>]|0x/, "", ref) } \
  END { flush(); for (t in tdef) if (tdef[t] in anon) print t }' | sort -u
check-c: check-layers
	cppcheck --quiet --error-exitcode=1 --std=c99 --enable=warning,style,performance,portability --force \
	  --library=lua --library=libcurl --library=posix --library=gnu -ULUA_USER_H -Isrc -I$(LUA_INCDIR) \
	  --suppress=missingIncludeSystem --suppress=variableScope --suppress=leakReturnValNotUsed:src/module.c \
	  --inline-suppr src/*.c
	clang-tidy --quiet --warnings-as-errors='*' --checks='$(TIDY_CHECKS)' src/*.c -- \
	  -std=c99 -I$(LUA_INCDIR) -I$(CURL_INCDIR) 2>/dev/null

check-layers: $(OBJS)
	@set -e; below=""; for f in $(LAYERS); do o=$(BUILD)/obj/$$f.o; [ -f $$o ] || { echo "check-layers: no $$o"; exit 1; }; \
	  for sym in $$(nm -u $$o | awk '$$2 ~ /^avc_/ {print $$2}'); do \
	    echo " $$below " | grep -q " $$sym " || { echo "check-layers: src/$$f.c uses $$sym, not defined below it"; exit 1; }; \
	  done; below="$$below $$(nm --defined-only $$o | awk '$$2 == "T" && $$3 ~ /^avc_/ {print $$3}' | tr '\n' ' ')"; done; \
	for s in $(SRCS); do f=$$(basename $$s .c); echo " $(LAYERS) " | grep -q " $$f " || { echo "check-layers: $$s is not in LAYERS"; exit 1; }; done; \
	echo "check-layers: $(LAYERS) (each uses only what is before it)"
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo '#include "core.h"' | $(CC) -x c -std=c99 -g -fno-eliminate-unused-debug-types -Isrc -I$(LUA_INCDIR) \
	  -I$(CURL_INCDIR) -c -o $$tmp/h.o -; \
	for s in $$(readelf --debug-dump=info $$tmp/h.o | $(DWARF_STRUCTS)); do \
	  echo " $(PUBLIC_STRUCTS) " | grep -q " $$s " || { echo "check-layers: src/core.h defines struct $$s (not in PUBLIC_STRUCTS)"; exit 1; }; \
	done; \
	for f in $(LAYERS); do readelf --debug-dump=info $(BUILD)/obj/$$f.o | $(DWARF_STRUCTS) | sed "s|^|$$f |"; done >$$tmp/seen; \
	for fs in $(PRIVATE_STRUCTS); do f=$${fs%%:*}; s=$${fs#*:}; \
	  grep -qx "$$f $$s" $$tmp/seen || { echo "check-layers: $(BUILD)/obj/$$f.o has no definition of struct $$s (built without -g?)"; exit 1; }; \
	done; \
	while read f s; do echo " $(PUBLIC_STRUCTS) " | grep -q " $$s " && continue; \
	  for g in $$(awk -v s=$$s '$$2 == s && $$1 != f {print $$1}' f=$$f $$tmp/seen); do \
	    owner=$$(echo " $(PRIVATE_STRUCTS) " | tr ' ' '\n' | sed -n "s/^\(.*\):$$s$$/\1/p"); \
	    echo "check-layers: src/$$f.c and src/$$g.c both see the definition of struct $$s$${owner:+ (private to src/$$owner.c)}"; exit 1; \
	  done; \
	done <$$tmp/seen; \
	echo "check-layers: struct $(PRIVATE_STRUCTS) (each defined and seen in its own file only)"

lint:
	luacheck lua spec examples standin bench fuzz test bin/apivideo-analytics
	clang-format --dry-run --Werror src/*.c src/*.h

format:
	clang-format -i src/*.c src/*.h

clean:
	rm -rf build
