# lua-apivideo — build, test and install.
#   make                 build the C core for Lua $(LUA_VERSION) (5.4 by default)
#   make test            unit + integration specs against the stand-in (installs missing Debian packages as root)
#   make demo            start the stand-in, print a video's sessions and a session's events, stop it
#   make install         copy the module into LuaRocks-style INST_LIBDIR / INST_LUADIR
#   make lint            luacheck + clang-format check
#   make clean
LUA_VERSION ?= 5.4
ifeq ($(LUA_VERSION),jit)
LUA_INCDIR ?= /usr/include/luajit-2.1
LUA ?= luajit
else
LUA_INCDIR ?= /usr/include/lua$(LUA_VERSION)
LUA ?= lua$(LUA_VERSION)
endif
CURL_INCDIR ?= /usr/include
CURL_LIBDIR ?= /usr/lib
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes
LIBFLAG ?= -shared
BUILD := build/lua$(LUA_VERSION)
SO := $(BUILD)/apivideo/core.so
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
INST_PREFIX ?= /usr/local
INST_LIBDIR ?= $(INST_PREFIX)/lib/lua/$(LUA_VERSION)
INST_LUADIR ?= $(INST_PREFIX)/share/lua/$(LUA_VERSION)

.PHONY: all deps test demo install lint format clean

all: $(SO)

$(BUILD)/obj/%.o: src/%.c src/core.h src/compat.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -fPIC -I$(LUA_INCDIR) -I$(CURL_INCDIR) -c $< -o $@

$(SO): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) $(CFLAGS) -o $@ $(OBJS) -L$(CURL_LIBDIR) -lcurl

deps:
	@sh scripts/deps.sh test

test: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/test.sh

demo:
	@sh scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: $(SO)
	install -d $(DESTDIR)$(INST_LIBDIR)/apivideo $(DESTDIR)$(INST_LUADIR)/apivideo
	install -m 0755 $(SO) $(DESTDIR)$(INST_LIBDIR)/apivideo/core.so
	install -m 0644 lua/apivideo/*.lua $(DESTDIR)$(INST_LUADIR)/apivideo/

lint:
	luacheck lua spec examples standin
	clang-format --dry-run --Werror src/*.c src/*.h

format:
	clang-format -i src/*.c src/*.h

clean:
	rm -rf build
