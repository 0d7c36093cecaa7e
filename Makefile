# ldap2scim - one GNU Makefile: all, test, check, demo, install, clean
#
#   make            build/ldap2scim
#   make test       install what is missing, then unit + integration tests
#   make check      the same suite under AddressSanitizer + UBSan
#   make demo       a throwaway slapd + SCIM server, dry-run, sync, change, sync
#   make bench      the scale benchmark (test/bench/run; BENCH_ARGS=--users N)
#   make windows    build/win64/ldap2scim.exe and ldap2scim-service.exe
#                   (mingw-w64; mk/windows.mk, mk/service.mk, mk/windeps.mk)
#   make install    PREFIX=/usr/local DESTDIR=
#   MALLOC=libc     build without jemalloc (default: with it when found)

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
VERSION  := 0.1.0
PKGS     := libcurl libcjson yaml-0.1 sqlite3 krb5

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
            -DL2S_VERSION='"$(VERSION)"' -iquote agent
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lldap -llber

# The allocator: jemalloc when pkg-config finds it, else the C library's
# (MALLOC=libc).  A full cycle allocates and frees millions of small pieces
# of records; glibc's malloc spends a fifth of such a cycle's CPU coalescing
# them (make bench).  The sanitizer build (make check) keeps its own.
MALLOC   ?= $(if $(shell pkg-config --exists jemalloc 2>/dev/null && echo y),jemalloc,libc)
ifeq ($(MALLOC),jemalloc)
LDLIBS   += $(shell pkg-config --libs jemalloc)
else ifneq ($(MALLOC),libc)
$(error MALLOC must be jemalloc or libc, not '$(MALLOC)')
endif

# Windows-only sources (*_win32.c, the Wldap32 wire) are built by mk/windows.mk.
AGENT_SRCS := $(filter-out agent/main.c agent/%_win32.c agent/wire_winldap.c,$(wildcard agent/*.c))
AGENT_OBJS := $(AGENT_SRCS:agent/%.c=$(BUILD)/agent/%.o)
UNIT_SRCS  := $(wildcard test/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)

.PHONY: all test check demo bench deps install clean unit

all: $(BUILD)/ldap2scim $(UNIT_BINS)

$(BUILD)/agent/%.o: agent/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/test/%.o: test/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libagent.a: $(AGENT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ldap2scim: $(BUILD)/agent/main.o $(BUILD)/libagent.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/test_%: $(BUILD)/test/test_%.o $(BUILD)/libagent.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	scripts/install-deps

unit: $(UNIT_BINS)

# deps first, then the build: never in parallel with the install.
test: deps
	$(MAKE) all
	L2S_WINE_BUILD=1 test/run

check: deps
	$(MAKE) BUILD=build/asan MALLOC=libc \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' all
	L2S_BUILD=build/asan L2S_WINE=0 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    L2S_BIG_MEMBERS=2000 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 test/run

demo: deps
	$(MAKE) all
	scripts/demo

bench: deps
	$(MAKE) all
	test/bench/run $(BENCH_ARGS)

install: $(BUILD)/ldap2scim
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/doc/ldap2scim
	install -m 755 $(BUILD)/ldap2scim $(DESTDIR)$(PREFIX)/bin/ldap2scim
	install -m 644 man/ldap2scim.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 man/ldap2scim.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 config/ldap2scim.yaml.example config/ad.yaml.example \
	    config/targets.yaml.example \
	    $(DESTDIR)$(PREFIX)/share/doc/ldap2scim/

clean:
	rm -rf build

-include $(wildcard $(BUILD)/agent/*.d $(BUILD)/test/*.d)

# The Windows build (cross-compiled; tested under wine by test/wine/).
include mk/windeps.mk mk/service.mk mk/windows.mk
