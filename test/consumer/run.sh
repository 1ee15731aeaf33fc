#!/usr/bin/env bash
# Consumer test: what a registry user installs, run as they would run it.
#
# Packs this repository (prepack builds dist/), installs the tarball into a throwaway host
# backend (this directory: the README's install snippet and nothing else, pinned to the
# release line the module is built for), type-checks the snippet against the published
# types, starts the host with plain `node` against the demo authentik, and checks that the
# catalog fills and that webhooks are answered. Ends with "N passed, N failed".
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and the npm registry.
# Ports 7107 (backend) and 9107 (demo authentik), as in app-config.yaml.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
fixture="$repo/test/consumer"
work=$(mktemp -d)
database="authentik_consumer_$$"
backend=http://127.0.0.1:7107
demo_port=9107
catalog_token=consumer-catalog-token
webhook_secret=consumer-webhook-secret
pids=()
passed=0
failed=0

check() { # check <description> <command...>
  local description=$1
  shift
  if "$@"; then
    echo "  ok    $description"
    passed=$((passed + 1))
  else
    echo "  FAIL  $description"
    failed=$((failed + 1))
  fi
}

finish() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  dropdb -h 127.0.0.1 -U postgres --if-exists "$database" 2>/dev/null
  [ "$failed" -gt 0 ] && [ -f "$work/host.log" ] && { echo "--- host backend log (last 40 lines)"; tail -n 40 "$work/host.log"; }
  rm -rf "$work"
  echo "consumer test: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
trap 'finish; exit $?' EXIT
trap 'exit 1' INT TERM

echo "Consumer test in $work"

# --- pack ------------------------------------------------------------------------------
(cd "$repo" && npm pack --silent --pack-destination "$work" --json >"$work/pack.json" 2>"$work/pack.log")
check "npm pack (prepack builds dist/)" test -s "$work/pack.json"
tarball=$(node -p 'require(process.argv[1])[0].filename' "$work/pack.json" 2>/dev/null)
node -e '
  const [pack] = require(process.argv[1]);
  const files = new Set(pack.files.map(f => f.path));
  const manifest = require(process.argv[2] + "/package.json");
  console.log(`  tarball ${pack.filename}: ${pack.entryCount} files, ${(pack.size / 1024).toFixed(1)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(1)} KiB unpacked`);
  const wanted = { main: manifest.main, types: manifest.types, configSchema: manifest.configSchema };
  const missing = Object.entries(wanted).filter(([, file]) => !files.has(file)).map(([key, file]) => `${key} → ${file}`);
  const sources = [...files].filter(f => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  if (missing.length) console.log(`  not in the tarball: ${missing.join(", ")}`);
  if (sources.length) console.log(`  TypeScript sources in the tarball: ${sources.slice(0, 5).join(", ")}`);
  process.exit(missing.length || sources.length ? 1 : 0);
' "$work/pack.json" "$repo" 2>/dev/null
check "main, types and configSchema are in the tarball; no TypeScript source" test $? -eq 0

# --- install into the host --------------------------------------------------------------
mkdir -p "$work/host"
cp -r "$fixture/package.json" "$fixture/tsconfig.json" "$fixture/app-config.yaml" "$fixture/src" "$work/host/"
(cd "$work/host" && npm install --no-audit --no-fund --loglevel=error "$work/$tarball" >"$work/install.log" 2>&1)
check "npm install of the host and the tarball" test $? -eq 0
copies=$(cd "$work/host" && npm ls --all --parseable @backstage/backend-plugin-api 2>/dev/null | grep -c '/@backstage/backend-plugin-api$')
echo "  copies of @backstage/backend-plugin-api in the host: $copies"
check "one copy of @backstage/backend-plugin-api in the host" test "$copies" -eq 1
module_dir="$work/host/node_modules/@backstage-community/plugin-catalog-backend-module-authentik"
check "no @backstage/* package of the module installed as a second copy" test ! -d "$module_dir/node_modules/@backstage"

# --- type-check and compile the README's snippet against the published types ----------
(cd "$work/host" && "$repo/node_modules/.bin/tsc" -p tsconfig.json >"$work/tsc.log" 2>&1)
status=$?
sed 's/^/  /' "$work/tsc.log"
check "the README's snippet type-checks against the published types (tsc)" test $status -eq 0

# --- run: demo authentik, host backend under plain node ----------------------------------
createdb -h 127.0.0.1 -U postgres "$database"
check "a database for the host (PostgreSQL on 127.0.0.1:5432)" test $? -eq 0
(cd "$repo" && exec node_modules/.bin/tsx dev/demo-authentik-cli.ts --port "$demo_port" \
  --webhook-url "$backend/api/events/http/authentik" --webhook-secret "$webhook_secret") >"$work/demo.log" 2>&1 &
pids+=($!)
(cd "$work/host" && CONSUMER_DATABASE="$database" exec node dist/index.js --config app-config.yaml) >"$work/host.log" 2>&1 &
host_pid=$!
pids+=("$host_pid")

# users: active, internal or external; groups: all (the host excludes none)
expected() {
  curl -sf -H 'Authorization: Bearer demo-authentik-api-token' \
    "http://127.0.0.1:$demo_port/api/v3/core/$1/?page_size=1000&include_users=false&include_groups=false" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).results;
      console.log(process.argv[1]==="users"?r.filter(u=>u.is_active&&["internal","external"].includes(u.type)).length:r.length)})' "$1"
}
catalog_count() {
  curl -sf -H "Authorization: Bearer $catalog_token" "$backend/api/catalog/entities/by-query?filter=kind=$1&limit=1" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).totalItems)}catch{console.log(0)}})'
}
filled=false
for _ in $(seq 1 120); do
  kill -0 "$host_pid" 2>/dev/null || break
  users=$(catalog_count user 2>/dev/null)
  groups=$(catalog_count group 2>/dev/null)
  want_users=$(expected users 2>/dev/null)
  want_groups=$(expected groups 2>/dev/null)
  if [ -n "$want_users" ] && [ "${users:-0}" = "$want_users" ] && [ "${groups:-0}" = "$want_groups" ]; then
    filled=true
    break
  fi
  sleep 1
done
kill -0 "$host_pid" 2>/dev/null
check "the host backend starts under plain node and keeps running" test $? -eq 0
echo "  entities seen: ${users:-0} users, ${groups:-0} groups (demo authentik: ${want_users:-?} users, ${want_groups:-?} groups)"
check "the catalog fills from the demo authentik" $filled

# --- webhooks ------------------------------------------------------------------------------
post() { # post <authorization header or ""> <body>
  local auth=()
  [ -n "$1" ] && auth=(-H "Authorization: $1")
  curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "${auth[@]}" \
    --data "$2" "$backend/api/events/http/authentik"
}
event='{"version":1,"event_pk":"0123456789abcdef0123456789abcdef","action":"model_updated","created":"2026-01-01T00:00:00+00:00","model":{"pk":3,"app":"authentik_core","name":"alice","model_name":"user"}}'
without=$(post "" "$event")
wrong=$(post "Bearer not-the-secret" "$event")
with=$(post "Bearer $webhook_secret" "$event")
malformed=$(post "Bearer $webhook_secret" '{"version": 1,')
echo "  webhook statuses: no secret $without, wrong secret $wrong, with the secret $with, malformed JSON $malformed"
check "webhook without the secret: 401" test "$without" = 401
check "webhook with a wrong secret: 403" test "$wrong" = 403
check "webhook with the secret: 202" test "$with" = 202
check "webhook with malformed JSON: 400" test "$malformed" = 400

# A change in authentik reaches the catalog through the demo's own webhook (no walk is due).
(cd "$repo" && DEMO_AUTHENTIK_PORT=$demo_port node_modules/.bin/tsx dev/demo-cli.ts add-user consumer-check "Consumer Check") >/dev/null 2>&1
arrived=false
for _ in $(seq 1 30); do
  curl -sf -o /dev/null -H "Authorization: Bearer $catalog_token" "$backend/api/catalog/entities/by-name/user/default/consumer-check" &&
    { arrived=true; break; }
  sleep 1
done
check "a user added in authentik reaches the catalog by webhook" $arrived
