# shellcheck shell=bash
# pki.sh: certificates for tests of weft against an etcd with TLS, made at test time
# with openssl (nothing is committed, nothing outlives the test's folder).
#
# pki_make DIR ADDR...: in DIR (created), with every key file mode 0600:
#   ca.pem ca.key              the test CA
#   server.pem server.key      etcd's certificate: subjectAltName = the ADDRs (IP for
#                              IPv4 and IPv6 addresses, as "::1"; DNS for names)
#                              and 127.0.0.1; usages serverAuth AND clientAuth (etcd's JSON
#                              gateway dials etcd itself with it under --client-cert-auth)
#   client.pem client.key      a client certificate with NO Common Name (the gateway
#                              refuses one that has a CN) and subjectAltName DNS:weft-client
#   client-cn.pem client-cn.key  the same, but with CN=weft-host: what the gateway refuses
#   expired.pem expired.key    a client certificate of the test CA that expired in 2020
#   other-ca.pem other-ca.key  a second CA that signed nothing etcd trusts
#   other-client.pem other-client.key  a client certificate from other-ca
#   wrong-name.pem wrong-name.key  a server certificate of the test CA for 192.0.2.99 only
# Needs openssl. Returns nonzero (after printing openssl's words) on failure.

_pki_sign() { # DIR NAME CA SUBJ EXT_LINES [startdate enddate]
    local dir=$1 name=$2 ca=$3 subj=$4 ext=$5
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "$subj" 2>>"$dir/openssl.log" || return 1
    chmod 600 "$dir/$name.key"
    printf '%b\n' "$ext" >"$dir/$name.ext"
    if [ $# -ge 7 ]; then
        # A validity in the past needs `openssl ca` (x509 -req only counts days from now).
        mkdir -p "$dir/ca-db"
        : >"$dir/ca-db/index.txt"
        [ -f "$dir/ca-db/serial" ] || echo 1000 >"$dir/ca-db/serial"
        cat >"$dir/ca-db/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $dir/ca-db/index.txt
serial = $dir/ca-db/serial
new_certs_dir = $dir/ca-db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
organizationName = optional
commonName = optional
EOF
        openssl ca -batch -config "$dir/ca-db/ca.cnf" -cert "$dir/$ca.pem" -keyfile "$dir/$ca.key" \
            -in "$dir/$name.csr" -out "$dir/$name.pem" -startdate "$6" -enddate "$7" \
            -extfile "$dir/$name.ext" -notext 2>>"$dir/openssl.log" >/dev/null || return 1
    else
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
            -CAcreateserial -days 2 -sha256 -extfile "$dir/$name.ext" \
            -out "$dir/$name.pem" 2>>"$dir/openssl.log" || return 1
    fi
    rm -f "$dir/$name.csr" "$dir/$name.ext"
}

_pki_ca() { # DIR NAME SUBJ
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$1/$2.key" -out "$1/$2.pem" -subj "$3" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>>"$1/openssl.log" || return 1
    chmod 600 "$1/$2.key"
}

pki_make() {
    local dir=$1 a san="IP:127.0.0.1"
    shift
    for a in "$@"; do
        if [[ "$a" =~ ^[0-9.]+$ || "$a" == *:* ]]; then san+=",IP:$a"; else san+=",DNS:$a"; fi
    done
    mkdir -p "$dir"
    local leaf='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment'
    {
        _pki_ca "$dir" ca "/O=weft test CA" &&
            _pki_ca "$dir" other-ca "/O=weft other CA" &&
            _pki_sign "$dir" server ca "/O=weft test etcd" \
                "$leaf\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=$san" &&
            _pki_sign "$dir" client ca "/O=weft" \
                "$leaf\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:weft-client" &&
            _pki_sign "$dir" client-cn ca "/O=weft/CN=weft-host" \
                "$leaf\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:weft-client" &&
            _pki_sign "$dir" other-client other-ca "/O=weft" \
                "$leaf\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:weft-client" &&
            _pki_sign "$dir" wrong-name ca "/O=weft wrong name" \
                "$leaf\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:192.0.2.99" &&
            _pki_sign "$dir" expired ca "/O=weft" \
                "$leaf\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:weft-client" \
                20200101000000Z 20200102000000Z
    } || {
        tail -n 20 "$dir/openssl.log" >&2
        return 1
    }
}
