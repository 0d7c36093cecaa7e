# shellcheck shell=bash
# source.sh - LDAP source faults for integration tests (sourced after lab.sh)
#
# A pacing proxy between the agent and slapd makes "slapd dies between two
# pages" deterministic: it forwards LDAP traffic untouched, but when armed it
# holds the connection right after the Nth SearchResultDone it relayed (the
# end of page N): the agent has page N and has asked for the next one, which
# the proxy keeps until the test has done its damage to slapd (SIGKILL,
# SIGSTOP) and releases it.  The fault itself is slapd's: the proxy closes
# the agent's side only when slapd's side closed.
#
#   ldap_pause_start DIR        start the proxy in front of $LDAP_URI (or
#                               PAUSE_UPSTREAM_HOST:PAUSE_UPSTREAM_PORT);
#                               exports PAUSE_URI, PAUSE_PID, PAUSE_DIR
#   ldap_pause_arm N            hold the next new connection after page N
#   ldap_pause_wait_held [S]    wait (up to S s, default 20) until held
#   ldap_pause_release          let the held connection go on
#   ldap_pause_garble MODE N    on the next new connection, damage the Nth
#                               entry (SearchResultEntry) relayed, its
#                               lengths unchanged: MODE set (the first
#                               attribute's SET OF values tagged as an
#                               OCTET STRING) or len (its first value one
#                               byte longer than the SET holds)
#   ldap_pause_stall N [BYTES]  on the next new connection, relay the
#                               first half of the Nth entry (or, half a
#                               second after the entries before it, its
#                               first BYTES bytes alone), then nothing
#                               more (the connection stays open): a server
#                               that stops in the middle of a message
#   ldap_pause_stop             kill the proxy (by pid)
#   ldap_pause_held             "DONES ENTRIES": the search results (pages)
#                               and entries relayed on the held connection
#   state_export CONFIG FILE    `state export` of CONFIG's state into FILE
#   bg_wait PID SECONDS         wait for a background job up to SECONDS;
#                               sets bg_rc (empty when it did not end)

ldap_pause_start() {
	local dir=$1 i
	mkdir -p "$dir" || return 1
	PAUSE_DIR=$(cd "$dir" && pwd)
	rm -f "$PAUSE_DIR/port" "$PAUSE_DIR/arm" "$PAUSE_DIR/held" "$PAUSE_DIR/release" \
	    "$PAUSE_DIR/garble" "$PAUSE_DIR/garbled" "$PAUSE_DIR/stall" \
	    "$PAUSE_DIR/stalled"
	cat >"$PAUSE_DIR/proxy.py" <<'PY'
import os, socket, sys, threading, time

up_host, up_port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def path(n):
    return os.path.join(d, n)


def ber_len(buf, i):
    """(length, offset after the length) or None when incomplete."""
    if i >= len(buf):
        return None
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    n = b & 0x7F
    if i + 1 + n > len(buf):
        return None
    return int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n


def split_message(buf):
    """(message, protocolOp tag) of the first whole LDAPMessage, or None."""
    if len(buf) < 2:
        return None
    r = ber_len(buf, 1)
    if r is None:
        return None
    n, off = r
    if len(buf) < off + n:
        return None
    msg = buf[:off + n]
    # messageID: INTEGER, then the protocolOp tag
    r = ber_len(msg, off + 1)
    tag = msg[r[1] + r[0]] if r is not None and r[1] + r[0] < len(msg) else None
    return msg, tag


def elem(buf, i):
    """(tag, contents offset, contents length) of the element at i."""
    n, off = ber_len(buf, i + 1)
    return buf[i], off, n


def garble(msg, mode):
    """msg (a SearchResultEntry) damaged as mode says, or None."""
    b = bytearray(msg)
    _, c, _ = elem(b, 0)                   # LDAPMessage
    _, o, n = elem(b, c)                   # messageID
    _, c, _ = elem(b, o + n)               # protocolOp [APPLICATION 4]
    _, o, n = elem(b, c)                   # objectName
    _, a, _ = elem(b, o + n)               # attributes
    _, f, _ = elem(b, a)                   # the first PartialAttribute
    _, o, n = elem(b, f)                   # its type
    t = o + n                              # its SET OF values
    tag, sc, sn = elem(b, t)
    if tag != 0x31 or sn < 2 or b[sc] != 0x04:
        return None
    if mode == "set":
        b[t] = 0x04
        return bytes(b)
    room = sc + sn - (sc + 2)              # what the SET holds after the
    if b[sc + 1] >= 0x80 or room + 1 >= 0x80:  # first value's header
        return None
    b[sc + 1] = room + 1
    return bytes(b)


class Conn:
    def __init__(self, c, hold_after, garble_mode=None, garble_at=0,
                 stall_at=0, stall_bytes=0):
        self.c = c
        self.u = socket.create_connection((up_host, up_port))
        self.hold_after = hold_after
        self.garble_mode = garble_mode
        self.garble_at = garble_at
        self.stall_at = stall_at
        self.stall_bytes = stall_bytes
        self.dones = 0
        self.entries = 0
        self.held = False
        self.closed = False

    def wait_release(self):
        while self.held and not self.closed:
            if os.path.exists(path("release")):
                self.held = False
                return
            time.sleep(0.02)

    def close(self):
        self.closed = True
        for s in (self.c, self.u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def client_to_server(self):
        try:
            while True:
                data = self.c.recv(65536)
                if not data:
                    break
                self.wait_release()
                self.u.sendall(data)
        except OSError:
            pass
        self.close()

    def server_to_client(self):
        buf = b""
        try:
            while True:
                data = self.u.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    m = split_message(buf)
                    if m is None:
                        break
                    msg, tag = m
                    buf = buf[len(msg):]
                    self.wait_release()
                    if tag == 0x64:
                        self.entries += 1
                        if self.garble_at == self.entries:
                            g = garble(msg, self.garble_mode)
                            with open(path("garbled"), "w") as f:
                                f.write("yes\n" if g else "no\n")
                            msg = g or msg
                        if self.stall_at == self.entries:
                            if self.stall_bytes:
                                # alone: the client has read all before
                                time.sleep(0.5)
                                self.c.sendall(msg[:self.stall_bytes])
                            else:
                                self.c.sendall(msg[:len(msg) // 2])
                            open(path("stalled"), "w").write("yes\n")
                            while not self.closed:
                                time.sleep(0.05)
                            break
                    if tag == 0x65:
                        self.dones += 1
                        if self.hold_after and self.dones == self.hold_after:
                            # held before the client can ask for more
                            self.held = True
                            self.c.sendall(msg)
                            with open(path("held.tmp"), "w") as f:
                                f.write("%d %d\n" % (self.dones, self.entries))
                            os.rename(path("held.tmp"), path("held"))
                            continue
                    self.c.sendall(msg)
        except OSError:
            pass
        # slapd's side is gone: so is the agent's
        self.close()


def take(name):
    """The words of the file name (ldap_pause_arm and the like), which is
    removed: they arm the next connection only; [] when there is none."""
    try:
        with open(path(name)) as f:
            words = f.read().split()
        os.unlink(path(name))
        return words
    except OSError:
        return []


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
open(path("port.tmp"), "w").write(str(s.getsockname()[1]))
os.rename(path("port.tmp"), path("port"))
while True:
    c, _ = s.accept()
    arm, garble_arm, stall = take("arm"), take("garble"), take("stall")
    hold_after = int(arm[0]) if arm else 0
    garble_mode, garble_at = None, 0
    if len(garble_arm) == 2:
        garble_mode, garble_at = garble_arm[0], int(garble_arm[1])
    stall_at = int(stall[0]) if stall else 0
    stall_bytes = int(stall[1]) if len(stall) > 1 else 0
    try:
        conn = Conn(c, hold_after, garble_mode, garble_at, stall_at,
                    stall_bytes)
    except OSError:
        c.close()
        continue
    threading.Thread(target=conn.client_to_server, daemon=True).start()
    threading.Thread(target=conn.server_to_client, daemon=True).start()
PY
	python3 "$PAUSE_DIR/proxy.py" "${PAUSE_UPSTREAM_HOST:-127.0.0.1}" \
	    "${PAUSE_UPSTREAM_PORT:-$LDAP_PORT}" "$PAUSE_DIR" \
	    >"$PAUSE_DIR/proxy.log" 2>&1 </dev/null &
	PAUSE_PID=$!
	for ((i = 0; i < 100; i++)); do
		if [ -s "$PAUSE_DIR/port" ]; then
			PAUSE_URI=ldap://127.0.0.1:$(cat "$PAUSE_DIR/port")
			export PAUSE_URI PAUSE_PID PAUSE_DIR
			return 0
		fi
		kill -0 "$PAUSE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$PAUSE_DIR/proxy.log" >&2
	return 1
}

ldap_pause_arm() {
	rm -f "$PAUSE_DIR/held" "$PAUSE_DIR/release"
	echo "$1" >"$PAUSE_DIR/arm"
}

ldap_pause_garble() {
	rm -f "$PAUSE_DIR/garbled"
	echo "$1 $2" >"$PAUSE_DIR/garble"
}

ldap_pause_stall() {
	rm -f "$PAUSE_DIR/stalled"
	echo "$*" >"$PAUSE_DIR/stall"
}

ldap_pause_wait_held() {
	local i n=$((${1:-20} * 20))
	for ((i = 0; i < n; i++)); do
		[ -e "$PAUSE_DIR/held" ] && return 0
		sleep 0.05
	done
	return 1
}

ldap_pause_release() {
	touch "$PAUSE_DIR/release"
}

ldap_pause_held() {
	cat "$PAUSE_DIR/held" 2>/dev/null
}

ldap_pause_stop() {
	[ -n "${PAUSE_PID:-}" ] || return 0
	kill "$PAUSE_PID" 2>/dev/null
	wait "$PAUSE_PID" 2>/dev/null
	PAUSE_PID=
}

state_export() {
	"$L2S_BIN" -c "$1" state export >"$2" 2>/dev/null
}

# shellcheck disable=SC2034 # bg_rc is this function's result
bg_wait() {
	local pid=$1 secs=$2 i
	bg_rc=
	for ((i = 0; i < secs * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			bg_rc=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}
