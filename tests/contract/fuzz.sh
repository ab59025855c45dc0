#!/usr/bin/env bash
# Contract fuzzing: schemathesis generates requests from /api/v1/openapi.json and checks
# that a real `consola serve` answers no 5xx and nothing outside the documented schema,
# for each kind of caller. Run from the repository root after `cargo build`.
#
#   tests/contract/fuzz.sh [examples-per-operation]
#
# Prints a closing line "fuzz: N passed, 0 failed" with the number of generated cases.
set -euo pipefail

examples="${1:-40}"
bin="${CONSOLA_BIN:-target/debug/consola}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
url=""
for _ in $(seq 1 300); do
    url="$(sed -n 's/^consola escuchando en //p' "$work/serve.out" | head -n 1)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "fuzz: the server did not start"; cat "$work/serve.log"; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -fsS -X POST "$url$1" -H 'content-type: application/json' "${@:3}" -d "$2"; }

post /api/v1/setup '{"account_name":"Fuzz","username":"superadmin","display_name":"Súper","password":"contraseña segura"}' >/dev/null
super_token="$(post /api/v1/session '{"username":"superadmin","password":"contraseña segura"}' | json '["token"]')"
post /api/v1/users '{"username":"admin","display_name":"Admin","password":"contraseña segura","role":"admin"}' \
    -H "authorization: Bearer $super_token" >/dev/null
admin_token="$(post /api/v1/session '{"username":"admin","password":"contraseña segura"}' | json '["token"]')"
group_id="$(post /api/v1/permission-groups '{"name":"Reportes","permissions":[{"module":"reports","actions":["view"]}]}' \
    -H "authorization: Bearer $super_token" | json '["id"]')"
consumer="$(post /api/v1/consumers "{\"name\":\"ERP\",\"grant_type\":\"client_credentials\",\"permission_group_id\":\"$group_id\"}" \
    -H "authorization: Bearer $super_token")"
client_id="$(echo "$consumer" | json '["client_id"]')"
client_secret="$(echo "$consumer" | json '["client_secret"]')"
consumer_token="$(curl -fsS -X POST "$url/oauth/token" -u "$client_id:$client_secret" \
    -d grant_type=client_credentials | json '["access_token"]')"

checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection"
total=0
failed=0
# The consumer's access token and the admin run first: the super admin's run may delete or
# demote users, the admin among them.
# Signing out and changing the password are left out: they would end the session under test.
for caller in consumer admin super_admin; do
    case "$caller" in
        consumer) token="$consumer_token" ;;
        admin) token="$admin_token" ;;
        *) token="$super_token" ;;
    esac
    out="$work/$caller.txt"
    set +e
    timeout 900 schemathesis run "$url/api/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks "$checks" \
        --max-examples "$examples" \
        --seed 20261128 \
        --exclude-path-regex '^/api/v1/session$' \
        --exclude-path '/api/v1/me/password' \
        --request-timeout 10 \
        --no-color >"$out" 2>&1
    status=$?
    set -e
    cases="$(sed -n 's/^ *\([0-9][0-9]*\) generated.*/\1/p' "$out" | tail -n 1)"
    cases="${cases:-0}"
    total=$((total + cases))
    echo "fuzz as $caller: $cases cases, exit $status"
    if [ "$status" -ne 0 ]; then
        failed=$((failed + 1))
        tail -n 80 "$out"
    fi
done
grep -qi 'panicked' "$work/serve.log" && { echo "fuzz: the server panicked"; failed=$((failed + 1)); }
echo "fuzz: $total passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$total" -ge 1000 ]
