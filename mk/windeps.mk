# windeps.mk - the Windows build's libraries (included by the Makefile;
# also usable alone: make -f mk/windeps.mk windows-deps)
#
#   make windows-deps        scripts/build-win-deps into $(BUILD)/win64/deps:
#                            libcurl (Schannel), cJSON, libyaml, SQLite, static,
#                            from Debian's source packages; cached, so a rerun
#                            takes a second or two
#   make windows-deps-smoke  also $(BUILD)/win64/test/deps_smoke.exe, linked
#                            against those libraries only; test/wine/deps_test.sh
#                            runs it under wine
#
# After windows-deps, $(BUILD)/win64/deps/deps.mk defines WIN_DEPS_CFLAGS and
# WIN_DEPS_LIBS; it is included here when it exists.  WIN_DEPS_JOBS=N limits
# the parallel compiles (default: nproc).

WINDEPS_TOP := $(patsubst %/,%,$(dir $(abspath $(dir $(lastword $(MAKEFILE_LIST))))))
WINDEPS_MK  := $(WINDEPS_TOP)/mk/windeps.mk

BUILD        ?= build
WIN_CC       ?= x86_64-w64-mingw32-gcc
WIN_DEPS_OUT := $(BUILD)/win64/deps
WIN_DEPS_SMOKE := $(BUILD)/win64/test/deps_smoke.exe

.PHONY: windows-deps windows-deps-smoke

windows-deps:
	$(WINDEPS_TOP)/scripts/build-win-deps --out $(WIN_DEPS_OUT) \
	    $(if $(WIN_DEPS_JOBS),--jobs $(WIN_DEPS_JOBS))

# deps.mk may have been written just now: link in a make that reads it.
windows-deps-smoke: windows-deps
	+$(MAKE) --no-print-directory -f $(WINDEPS_MK) BUILD=$(BUILD) $(WIN_DEPS_SMOKE)

-include $(WIN_DEPS_OUT)/deps.mk

$(WIN_DEPS_SMOKE): $(WINDEPS_TOP)/test/wine/deps_smoke.c $(WIN_DEPS_OUT)/deps.mk \
    $(WINDEPS_TOP)/test/unit/tap.h
	@mkdir -p $(@D)
	$(WIN_CC) -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -O2 -D__USE_MINGW_ANSI_STDIO=1 \
	    -DL2S_PRINTF_DIALECT=gnu_printf -iquote $(WINDEPS_TOP)/agent \
	    -iquote $(WINDEPS_TOP)/test/unit $(WIN_DEPS_CFLAGS) \
	    -o $@ $< $(WIN_DEPS_LIBS) -static
