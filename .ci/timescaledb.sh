#!/usr/bin/env bash
# A PostgreSQL cluster with the TimescaleDB extension, for tests and local development.
#
# Creates (or reuses) the cluster "$TS_CLUSTER" of the machine's PostgreSQL $PG_MAJOR on
# 127.0.0.1:$TS_PORT with trust auth and timescaledb preloaded; the default cluster on 5432 is
# left alone. The extension comes from Debian's package when the machine's release has one,
# otherwise it is built from the next Debian release's `timescaledb` source package (the
# Apache-2 edition, as Debian ships it). The source is fetched through a private apt
# configuration in a temporary directory: nothing under /etc/apt changes.
#
# Idempotent: a second run only checks and (re)starts the cluster. Run as root.
# Env: PG_MAJOR (15), TS_CLUSTER (timescale), TS_PORT (5433), TS_NEXT_RELEASE (from the
# machine's codename), SIMFLEET_APT_UPDATED=1 when the caller has run `apt-get update`.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
TS_CLUSTER="${TS_CLUSTER:-timescale}"
TS_PORT="${TS_PORT:-5433}"
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG="${PG_BIN}/pg_config"
BUILD_DEPS=(cmake gcc make libssl-dev dpkg-dev xz-utils "postgresql-server-dev-${PG_MAJOR}")
export DEBIAN_FRONTEND=noninteractive

script_start=$(date +%s.%N)
step_start=$script_start

log() { printf '[timescaledb] %s\n' "$*"; }
die() { printf '[timescaledb] ERROR: %s\n' "$*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }
step() { log "$1 ($(since "$step_start"))"; step_start=$(date +%s.%N); }

[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x "${PG_BIN}/postgres" ]] || die "PostgreSQL ${PG_MAJOR} server is not installed"

apt_updated="${SIMFLEET_APT_UPDATED:-0}"
work=""
apt_update_once() {
  if [[ "$apt_updated" != 1 ]]; then
    apt-get update -qq
    apt_updated=1
  fi
}

missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' \
      || printf '%s\n' "$pkg"
  done
}

extension_installed() {
  local sharedir pkglibdir
  [[ -x "$PG_CONFIG" ]] || return 1
  sharedir=$("$PG_CONFIG" --sharedir)
  pkglibdir=$("$PG_CONFIG" --pkglibdir)
  [[ -f "$sharedir/extension/timescaledb.control" && -e "$pkglibdir/timescaledb.so" ]]
}

debian_package_candidate() {
  # The machine's own release may ship the extension for its PostgreSQL.
  local candidate
  candidate=$(apt-cache policy "postgresql-${PG_MAJOR}-timescaledb" 2>/dev/null \
    | awk '/Candidate:/ { print $2 }')
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

# Print "URI KEYRING" of the machine's Debian archive entry for suite $1, read from its own
# apt sources (deb822 files first, then the one-line format).
debian_mirror() {
  local suite="$1" file found=""
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
    found=$(awk -v suite="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = uris = suites = signed = ""; enabled = 1
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t#]/ || line !~ /:/) continue
          key = tolower(substr(line, 1, index(line, ":") - 1))
          value = substr(line, index(line, ":") + 1)
          gsub(/^[ \t]+|[ \t]+$/, "", value)
          if (key == "types") types = " " value " "
          else if (key == "uris") uris = value
          else if (key == "suites") suites = " " value " "
          else if (key == "signed-by") signed = value
          else if (key == "enabled" && tolower(value) == "no") enabled = 0
        }
        if (enabled && types ~ / deb / && suites ~ (" " suite " ") && uris != "") {
          split(uris, u, /[ \t]+/)
          if (signed == "" || signed ~ /^-----/) signed = "-"
          print u[1], signed
          exit
        }
      }' "$file")
    [[ -n "$found" ]] && { printf '%s\n' "$found"; return 0; }
  done
  if [[ -f /etc/apt/sources.list ]]; then
    found=$(awk -v suite="$suite" '
      $1 == "deb" {
        signed = "-"; i = 2
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            if ($i ~ /^\[?signed-by=/) { signed = $i; sub(/^\[?signed-by=/, "", signed); sub(/\]$/, "", signed) }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == suite) { print $i, signed; exit }
      }' /etc/apt/sources.list)
    [[ -n "$found" ]] && { printf '%s\n' "$found"; return 0; }
  fi
  return 1
}

next_release() {
  case "$1" in
    bullseye) echo bookworm ;;
    bookworm) echo trixie ;;
    trixie) echo forky ;;
    *) return 1 ;;
  esac
}

build_from_next_release_source() {
  local codename next mirror uri keyring apt_opts
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  next="${TS_NEXT_RELEASE:-$(next_release "$codename" || true)}"
  [[ -n "$next" ]] || die "no next Debian release known for '$codename'; set TS_NEXT_RELEASE"
  mirror=$(debian_mirror "$codename") || die "no Debian archive for '$codename' in the apt sources"
  read -r uri keyring <<<"$mirror"
  [[ "$keyring" != "-" ]] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg

  local missing
  mapfile -t missing < <(missing_packages "${BUILD_DEPS[@]}")
  if ((${#missing[@]})); then
    apt_update_once
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  step "build dependencies ready"

  work=$(mktemp -d /tmp/simfleet-timescaledb.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work"
  mkdir -p "$work/etc/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
  cat >"$work/etc/sources.list.d/next-src.sources" <<EOF
Types: deb-src
URIs: ${uri}
Suites: ${next}
Components: main
Signed-By: ${keyring}
EOF
  # A private apt configuration: its own sources (deb-src of $next only), lists and caches.
  apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$work/etc/sources.list.d"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache"
  )
  # apt downloads as the unprivileged _apt user where it exists.
  if id _apt >/dev/null 2>&1; then chown -R _apt "$work/lists" "$work/cache" "$work/src"; fi
  log "fetching the timescaledb source package of Debian ${next} from ${uri}"
  apt-get "${apt_opts[@]}" -qq update
  (cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only timescaledb)
  step "source package downloaded"

  (cd "$work/src" && dpkg-source --no-check -x ./*.dsc build >/dev/null)
  local version
  version=$(awk -F'[ =]+' '/^version/ { print $2; exit }' "$work/src/build/version.config")
  log "building TimescaleDB ${version:-?} (Apache-2 edition) for PostgreSQL ${PG_MAJOR}"
  (
    cd "$work/src/build"
    ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
      -DSEND_TELEMETRY_DEFAULT=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG_CONFIG="$PG_CONFIG" \
      >"$work/bootstrap.log" 2>&1 || { tail -40 "$work/bootstrap.log"; exit 1; }
    make -C build -j"$(($(nproc) + 1))" >"$work/build.log" 2>&1 || { tail -60 "$work/build.log"; exit 1; }
    make -C build install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
  )
  step "built and installed"
}

psql_ts() {
  PGOPTIONS="-c client_min_messages=warning" "${PG_BIN}/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TS_PORT" -U postgres "$@"
}

setup_cluster() {
  local confdir="/etc/postgresql/${PG_MAJOR}/${TS_CLUSTER}"
  if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" -v c="$TS_CLUSTER" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
    if pg_lsclusters -h | awk -v p="$TS_PORT" '$3 == p { f = 1 } END { exit !f }'; then
      die "port ${TS_PORT} is used by another cluster"
    fi
    pg_createcluster "$PG_MAJOR" "$TS_CLUSTER" -p "$TS_PORT" --start-conf=manual >/dev/null
    step "cluster ${PG_MAJOR}/${TS_CLUSTER} created"
  fi
  # Written on every run so that a changed script applies to an existing cluster.
  local conf="$confdir/conf.d/90-timescaledb.conf" hba="$confdir/pg_hba.conf"
  local old_conf old_hba
  old_conf=$(cat "$conf" 2>/dev/null || true)
  old_hba=$(cat "$hba")
  cat >"$conf" <<EOF
# Written by .ci/timescaledb.sh: a scratch cluster for tests and development.
listen_addresses = '127.0.0.1'
port = ${TS_PORT}
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timescaledb.max_background_workers = 4
max_worker_processes = 16
autovacuum = off
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  cat >"$hba" <<EOF
# Written by .ci/timescaledb.sh: trust on the socket and loopback, like the default cluster.
local all all trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128 trust
EOF
  chown postgres:postgres "$conf" "$hba"

  local status
  status=$(pg_lsclusters -h | awk -v v="$PG_MAJOR" -v c="$TS_CLUSTER" '$1 == v && $2 == c { print $4 }')
  if [[ "$status" == online* ]]; then
    if [[ "$old_conf" != "$(cat "$conf")" || "$old_hba" != "$(cat "$hba")" ]]; then
      pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$TS_CLUSTER" restart
      step "cluster restarted with the new settings"
    fi
  else
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$TS_CLUSTER" start \
      || { tail -30 "/var/log/postgresql/postgresql-${PG_MAJOR}-${TS_CLUSTER}.log" >&2 || true; exit 1; }
    step "cluster started"
  fi
  local deadline=$((SECONDS + 60))
  until "${PG_BIN}/pg_isready" -q -h 127.0.0.1 -p "$TS_PORT"; do
    ((SECONDS < deadline)) || die "cluster on port ${TS_PORT} not ready after 60s"
    sleep 0.5
  done
}

verify() {
  local scratch=timescaledb_check
  psql_ts -d postgres -c "DROP DATABASE IF EXISTS ${scratch}" -c "CREATE DATABASE ${scratch}"
  local out
  out=$(psql_ts -d "$scratch" -At <<'SQL'
CREATE EXTENSION timescaledb;
CREATE TABLE readings (time timestamptz NOT NULL, sim text NOT NULL, mb double precision);
SELECT count(*) FROM create_hypertable('readings', by_range('time', INTERVAL '1 day'));
INSERT INTO readings SELECT t, 'sim-1', 1.5 FROM generate_series(now() - INTERVAL '3 days', now(), INTERVAL '1 hour') AS t;
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb';
SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings';
SQL
  )
  psql_ts -d postgres -c "DROP DATABASE ${scratch}"
  local version chunks
  version=$(sed -n 2p <<<"$out")
  chunks=$(sed -n 3p <<<"$out")
  [[ -n "$version" && "${chunks:-0}" -ge 3 ]] || die "verification failed: ${out}"
  step "verified: CREATE EXTENSION timescaledb ${version}, create_hypertable made ${chunks} chunks"
}

if extension_installed; then
  step "extension already installed for PostgreSQL ${PG_MAJOR}, skipping the build"
else
  if debian_package_candidate || { apt_update_once && debian_package_candidate; }; then
    apt-get install -y -qq --no-install-recommends "postgresql-${PG_MAJOR}-timescaledb" >/dev/null
    step "installed Debian package postgresql-${PG_MAJOR}-timescaledb"
  else
    build_from_next_release_source
  fi
  extension_installed || die "the extension files are missing after installation"
fi
setup_cluster
verify
log "ready: postgresql://postgres@127.0.0.1:${TS_PORT}/postgres (total $(since "$script_start"))"
