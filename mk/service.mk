# service.mk - ldap2scim-service.exe, the Windows service wrapper, and the
# test programs its wine tests run (included by the Makefile; also works
# alone: make -f mk/service.mk windows-service)
#
#   make windows-service   $(BUILD)/win64/ldap2scim-service.exe
#                          $(BUILD)/win64/test/fake_agent.exe (its tests' agent)

BUILD       ?= build
WIN_CC      ?= x86_64-w64-mingw32-gcc
WIN_WINDMC  ?= x86_64-w64-mingw32-windmc
WIN_WINDRES ?= x86_64-w64-mingw32-windres

SVC_OUT     := $(BUILD)/win64/service
SVC_CFLAGS  := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wformat=2 -O2 -municode \
               -DUNICODE -D_UNICODE -D_WIN32_WINNT=0x0601
SVC_SRCS    := $(wildcard agent/service/*.c)
SVC_OBJS    := $(SVC_SRCS:agent/service/%.c=$(SVC_OUT)/%.o)
SVC_EXE     := $(BUILD)/win64/ldap2scim-service.exe
SVC_TESTS   := $(BUILD)/win64/test/fake_agent.exe

.PHONY: windows-service

windows-service: $(SVC_EXE) $(SVC_TESTS)

# windmc writes messages.h (the MSG_* ids), messages.rc and MSG00409.bin.
$(SVC_OUT)/messages.h $(SVC_OUT)/messages.rc &: agent/service/messages.mc
	@mkdir -p $(SVC_OUT)
	$(WIN_WINDMC) -h $(SVC_OUT) -r $(SVC_OUT) $<

$(SVC_OUT)/messages.res.o: $(SVC_OUT)/messages.rc
	$(WIN_WINDRES) -I $(SVC_OUT) -O coff -o $@ $<

$(SVC_OUT)/%.o: agent/service/%.c $(SVC_OUT)/messages.h
	@mkdir -p $(@D)
	$(WIN_CC) $(SVC_CFLAGS) -iquote agent/service -I $(SVC_OUT) -MMD -MP \
	    -c -o $@ $<

$(SVC_EXE): $(SVC_OBJS) $(SVC_OUT)/messages.res.o
	$(WIN_CC) $(SVC_CFLAGS) -static -o $@ $^ -ladvapi32

$(SVC_TESTS): $(BUILD)/win64/test/%.exe: test/wine/%.c
	@mkdir -p $(@D)
	$(WIN_CC) $(SVC_CFLAGS) -static -o $@ $<

-include $(SVC_OBJS:.o=.d)
