# windows.mk - the Windows build of the agent, cross-compiled with
# mingw-w64 against Windows' own Wldap32 and the libraries that
# scripts/build-win-deps builds from Debian's source packages (windeps.mk).
# Included by the Makefile.
#
#   make windows         build/win64/ldap2scim.exe and ldap2scim-service.exe
#   make windows-tests   the programs the wine tests run (test/wine/)
#
# The sources are the POSIX build's, less its platform files
# (*_posix.c), its LDAP wire (wire_openldap.c) and its Kerberos login:
# platform_win32.c and wire_winldap.c take their place.

WIN_OUT        := $(BUILD)/win64
WIN_AR         ?= x86_64-w64-mingw32-ar
# WIN_DEPS_EXTERNAL=1: the libraries come from elsewhere (MSYS2's packages
# on Windows): set WIN_DEPS_CFLAGS and WIN_DEPS_LIBS yourself, and
# scripts/build-win-deps is not run.
WIN_DEPS_STAMP := $(if $(WIN_DEPS_EXTERNAL),,$(WIN_DEPS_OUT)/deps.mk)
WIN_AGENT_SRCS := $(filter-out agent/main.c agent/%_posix.c \
                  agent/wire_openldap.c agent/kerberos.c,$(wildcard agent/*.c))
WIN_AGENT_OBJS := $(WIN_AGENT_SRCS:agent/%.c=$(WIN_OUT)/agent/%.o)
# C99 stdio (%zu) from mingw-w64, checked as such (compiler.h).
WIN_CPPFLAGS   := -D_POSIX_C_SOURCE=200809L -D__USE_MINGW_ANSI_STDIO=1 \
                  -DL2S_PRINTF_DIALECT=gnu_printf -D_WIN32_WINNT=0x0601 \
                  -DL2S_VERSION='"$(VERSION)"' -iquote agent
WIN_CFLAGS     := -std=c11 $(WARN) -O2 -g
# clock_gettime() is in winpthreads (linked statically with the rest).
WIN_SYSLIBS    := -lwinpthread -lwldap32 -ladvapi32 -lshell32 -lcrypt32 -lsecur32 \
                  -lbcrypt -lws2_32
WIN_TEST_BINS  := $(WIN_OUT)/test/platform_test.exe $(WIN_OUT)/test/wintool.exe

.PHONY: windows windows-agent windows-tests

windows: windows-agent windows-service
windows-agent: $(if $(WIN_DEPS_EXTERNAL),,windows-deps)
	+$(MAKE) --no-print-directory $(WIN_OUT)/ldap2scim.exe
windows-tests: windows-agent windows-service windows-deps-smoke
	+$(MAKE) --no-print-directory $(WIN_TEST_BINS)

$(WIN_OUT)/agent/%.o: agent/%.c $(WIN_DEPS_STAMP)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CPPFLAGS) $(WIN_DEPS_CFLAGS) $(WIN_CFLAGS) -MMD -MP \
	    -c -o $@ $<

$(WIN_OUT)/libagent.a: $(WIN_AGENT_OBJS)
	@rm -f $@
	$(WIN_AR) rcs $@ $^

$(WIN_OUT)/ldap2scim.exe: $(WIN_OUT)/agent/main.o $(WIN_OUT)/libagent.a
	$(WIN_CC) $(WIN_CFLAGS) -static -o $@ $^ $(WIN_DEPS_LIBS) $(WIN_SYSLIBS)

$(WIN_OUT)/test/%.exe: test/wine/agent/%.c $(WIN_OUT)/libagent.a test/unit/tap.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CPPFLAGS) -iquote test/unit $(WIN_CFLAGS) -static \
	    -o $@ $< $(WIN_OUT)/libagent.a $(WIN_DEPS_LIBS) $(WIN_SYSLIBS)

-include $(WIN_AGENT_OBJS:.o=.d)
