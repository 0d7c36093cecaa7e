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
# Each function returns non-zero with a message on stderr when openssl fails.

tls_ca() {
	local dir=$1
	mkdir -p "$dir" || return 1
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
	chmod 600 "$dir/ca.key"
}

tls_server_cert() {
	local dir=$1
	shift
	local names=("$@") san="" n
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
	    >"$dir/openssl.log" 2>&1 ||
	    ! openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
	    -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
	    -extfile "$dir/server.ext" -out "$dir/server.pem" \
	    >>"$dir/openssl.log" 2>&1; then
		echo "tls_server_cert: openssl failed:" >&2
		tail -n 5 "$dir/openssl.log" >&2
		return 1
	fi
	chmod 600 "$dir/server.key"
	rm -f "$dir/server.csr"
}
