# tls.sh - a throwaway certificate authority and server certificates for tests
#
# Sourced by test scripts (bash).  Everything is written under the directory
# given; nothing outside it is touched.  Keys are EC P-256 (fast to make,
# accepted by both OpenSSL and GnuTLS, which Debian's slapd uses).
#
#   tls_ca DIR                      DIR/ca.pem, DIR/ca.key
#   tls_server_cert DIR [NAME...]   DIR/server.pem, DIR/server.key signed by
#                                   DIR/ca.*; the first NAME is the CN; names
#                                   that look like IPv4 addresses become IP
#                                   SANs, the others DNS SANs; default names:
#                                   127.0.0.1 localhost
#
#   tls_sig_full_width CERT         true when CERT's ECDSA signature has an
#                                   r and an s of 32 bytes each
#
# Each function returns non-zero with a message on stderr when openssl fails.
#
# Every certificate made here has a full-width signature: about one ECDSA
# signature in 128 has an r or an s below 2^248, whose DER INTEGER is then
# shorter than 32 bytes, and wine 8.0's crypt32 refuses such a signature
# ("CertGetCertificateChain error mask: 0x00000008", not signature valid)
# where Windows, OpenSSL and GnuTLS accept it.  So each signature is made
# again (a new random k) until it is full width; a test then fails on what
# it tests, not one run in a hundred on wine.  Seen with
# test/wine/deps_test.sh on a CI run; the Linux tests lose nothing by it.

# tls_sig_full_width CERT
tls_sig_full_width() {
	local hex lr ls
	hex=$(openssl x509 -in "$1" -noout -text 2>/dev/null |
	    sed -n '/^ *Signature Value:/,$p' | tail -n +2 | tr -d ' :\n')
	# SEQUENCE { INTEGER r, INTEGER s }: 30 len 02 lr r... 02 ls s...
	[[ $hex =~ ^30[0-9a-f]{2}02 ]] || return 1
	lr=$((16#${hex:6:2}))
	[ "${hex:$((8 + 2 * lr)):2}" = 02 ] || return 1
	ls=$((16#${hex:$((10 + 2 * lr)):2}))
	[ "$lr" -ge 32 ] && [ "$ls" -ge 32 ]
}

tls_ca() {
	local dir=$1 try
	mkdir -p "$dir" || return 1
	for try in 1 2 3 4 5 6 7 8; do
		_tls_ca_once "$dir" || return 1
		tls_sig_full_width "$dir/ca.pem" && break
	done
	tls_sig_full_width "$dir/ca.pem" || {
		echo "tls_ca: no full-width signature in $try tries" >&2
		return 1
	}
	chmod 600 "$dir/ca.key"
}

_tls_ca_once() {
	local dir=$1
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 \
	    -subj "/O=ldap2scim tests/CN=ldap2scim test CA $$ $RANDOM" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    >"$dir/openssl.log" 2>&1 || {
		echo "tls_ca: openssl failed:" >&2
		tail -n 5 "$dir/openssl.log" >&2
		return 1
	}
}

tls_server_cert() {
	local dir=$1
	shift
	local names=("$@") san="" n try
	[ ${#names[@]} -gt 0 ] || names=(127.0.0.1 localhost)
	for n in "${names[@]}"; do
		if [[ $n =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
			san+="${san:+,}IP:$n"
		else
			san+="${san:+,}DNS:$n"
		fi
	done
	[ -f "$dir/ca.pem" ] || { echo "tls_server_cert: no CA in '$dir'" >&2; return 1; }
	printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
	    "keyUsage=critical,digitalSignature,keyEncipherment" \
	    "extendedKeyUsage=serverAuth" >"$dir/server.ext" || return 1
	if ! openssl req -new -nodes -newkey ec \
	    -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$dir/server.key" -out "$dir/server.csr" \
	    -subj "/O=ldap2scim tests/CN=${names[0]}" \
	    >"$dir/openssl.log" 2>&1; then
		echo "tls_server_cert: openssl failed:" >&2
		tail -n 5 "$dir/openssl.log" >&2
		return 1
	fi
	for try in 1 2 3 4 5 6 7 8; do
		if ! openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
		    -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
		    -extfile "$dir/server.ext" -out "$dir/server.pem" \
		    >>"$dir/openssl.log" 2>&1; then
			echo "tls_server_cert: openssl failed:" >&2
			tail -n 5 "$dir/openssl.log" >&2
			return 1
		fi
		tls_sig_full_width "$dir/server.pem" && break
	done
	tls_sig_full_width "$dir/server.pem" || {
		echo "tls_server_cert: no full-width signature in $try tries" >&2
		return 1
	}
	chmod 600 "$dir/server.key"
	rm -f "$dir/server.csr"
}
