# shellcheck shell=bash
#
# Throwaway PostgreSQL cluster for the Recourse test suite.
#
#   source .ci/pg.sh
#   pg_start        # initdb + start; exports RECOURSE_TEST_PG_URL
#   cargo test --workspace
#   pg_stop         # stop the server and delete its data directory
#
# The server listens only on 127.0.0.1 (first free port from
# ${RECOURSE_PG_PORT:-55432}), keeps its unix socket inside its temp dir, and
# trusts every local connection, so never point it at anything that matters.
# Run as root, the server runs as user `postgres` (created if missing);
# run as a normal user, it runs as you.
#
# This file is meant to be sourced: it only defines functions and sets no
# shell options.

# Newest /usr/lib/postgresql/<ver>/bin that has the server binaries.
_pg_find_bin() {
  local d v best="" best_v=-1
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres && -x $d/pg_isready ]] || continue
    v=${d#/usr/lib/postgresql/}
    v=${v%%/*}
    v=${v%%.*}
    [[ $v =~ ^[0-9]+$ ]] || continue
    if ((v > best_v)); then
      best=$d
      best_v=$v
    fi
  done
  if [[ -z $best ]]; then
    echo "pg.sh: no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
    return 1
  fi
  printf '%s\n' "$best"
}

# Run a command as the cluster owner, from inside the cluster dir (so the
# server never tries to chdir into an unreadable $PWD such as /root).
_pg_as() {
  if [[ $EUID -eq 0 ]]; then
    (cd "$RECOURSE_PG_DIR" && runuser -u "$RECOURSE_PG_USER" -- "$@")
  else
    (cd "$RECOURSE_PG_DIR" && "$@")
  fi
}

# True if something already accepts connections on 127.0.0.1:$1.
_pg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_start() {
  if [[ -n ${RECOURSE_PG_DIR:-} && -d ${RECOURSE_PG_DIR:-} ]]; then
    echo "pg.sh: already running ($RECOURSE_TEST_PG_URL, dir $RECOURSE_PG_DIR)" >&2
    return 0
  fi

  local bin user dir port last ok=""
  bin=$(_pg_find_bin) || return 1

  if [[ $EUID -eq 0 ]]; then
    user=postgres
    if ! id -u "$user" >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$user" || return 1
    fi
  else
    user=$(id -un) || return 1
  fi

  dir=$(mktemp -d /tmp/recourse-pg.XXXXXX) || return 1
  export RECOURSE_PG_DIR=$dir RECOURSE_PG_BIN=$bin RECOURSE_PG_USER=$user
  if [[ $EUID -eq 0 ]]; then
    chown "$user:" "$dir" || { pg_stop; return 1; }
  fi

  echo "pg.sh: initdb ($bin) as $user in $dir"
  if ! _pg_as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    pg_stop
    return 1
  fi

  cat >>"$dir/data/postgresql.conf" <<CONF || { pg_stop; return 1; }

# --- added by .ci/pg.sh (throwaway test cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

  port=${RECOURSE_PG_PORT:-55432}
  last=$((port + 50))
  for (( ; port < last; port++)); do
    _pg_port_busy "$port" && continue
    if _pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
      -o "-p $port" -w -t 60 start >/dev/null; then
      ok=1
      break
    fi
    # Lost a race for the port: try the next one. Anything else is fatal.
    grep -q 'could not bind' "$dir/postgres.log" 2>/dev/null || break
  done
  if [[ -z $ok ]]; then
    echo "pg.sh: could not start PostgreSQL; server log:" >&2
    tail -n 30 "$dir/postgres.log" >&2 2>/dev/null
    pg_stop
    return 1
  fi

  local i
  for ((i = 0; i < 60; i++)); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      export RECOURSE_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "pg.sh: ready: RECOURSE_TEST_PG_URL=$RECOURSE_TEST_PG_URL"
      return 0
    fi
    sleep 1
  done
  echo "pg.sh: server did not become ready; server log:" >&2
  tail -n 30 "$dir/postgres.log" >&2 2>/dev/null
  pg_stop
  return 1
}

pg_stop() {
  local dir=${RECOURSE_PG_DIR:-}
  [[ -n $dir ]] || return 0
  if [[ -f $dir/data/postmaster.pid ]]; then
    _pg_as "$RECOURSE_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
      _pg_as "$RECOURSE_PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null ||
      echo "pg.sh: warning: could not stop the server in $dir" >&2
  fi
  case $dir in
  /tmp/recourse-pg.*) rm -rf -- "$dir" ;;
  esac
  unset RECOURSE_PG_DIR RECOURSE_PG_BIN RECOURSE_PG_USER RECOURSE_TEST_PG_URL
  return 0
}
