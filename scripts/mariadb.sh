#!/usr/bin/env bash
# A private MariaDB server for the app's tests, on 127.0.0.1, with its data,
# socket, pid and log under .local/mariadb/.
#
#   scripts/mariadb.sh up      install the Debian package mariadb-server when no
#                              server binary is found (needs root), initialise
#                              the data directory once, start the server, create
#                              the test database and user; a no-op when it runs
#   scripts/mariadb.sh down    stop the server that `up` started (its pid), nothing else
#   scripts/mariadb.sh env     print the TANDEM_TEST_DB_* exports:
#                              eval "$(scripts/mariadb.sh env)"
#   scripts/mariadb.sh status  say whether it runs (exit 0) or not (exit 1)
#
# The port is the first free one from 3307 up (TANDEM_MARIADB_PORT chooses
# another start), kept in .local/mariadb/port; the test user's password is
# random, made once, kept in .local/mariadb/password.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=$ROOT/.local/mariadb
DATA=$DIR/data
SOCK=$DIR/mariadb.sock
PIDFILE=$DIR/mariadbd.pid
LOG=$DIR/mariadb.log
ENVFILE=$DIR/test.env
DB_NAME=tandem_test
DB_USER=tandem
# The account that administers this server through its socket: the user who runs this.
ADMIN=$(id -un)
PATH=$PATH:/usr/sbin:/usr/local/sbin

say() { echo "mariadb: $*"; }
die() { echo "mariadb: $*" >&2; exit 1; }

# The first of the names found on PATH.
find_bin() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

server_bin() { find_bin mariadbd mysqld; }

install_server() {
  [[ $(id -u) -eq 0 ]] || die "no MariaDB server (mariadbd or mysqld) is installed, and installing it needs root: run \`sudo apt-get install -y mariadb-server\`, then this again"
  command -v apt-get >/dev/null || die "no MariaDB server is installed and there is no apt-get here: install mariadb-server with this system's package manager"
  say "installing the Debian package mariadb-server"
  local t=$SECONDS policy=/usr/sbin/policy-rc.d ours=no
  # The package would start a system-wide server on port 3306; this script runs its own.
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=yes
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends mariadb-server mariadb-client
  } >"$DIR/install.log" 2>&1 || rc=$?
  [[ $ours == yes ]] && rm -f "$policy"
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$DIR/install.log" >&2
    die "apt-get could not install mariadb-server (exit $rc); the whole log is in ${DIR#"$ROOT"/}/install.log"
  fi
  say "installed in $((SECONDS - t))s"
}

# The pid of the server that `up` started, if it is still that server.
running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  # Only a server on this data directory: never another process that reused the pid.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--datadir=$DATA " || return 1
  echo "$pid"
}

client() { "$(find_bin mariadb mysql)" --no-defaults --protocol=socket --socket="$SOCK" -u "$ADMIN" "$@"; }

ping() { "$(find_bin mariadb-admin mysqladmin)" --no-defaults --protocol=socket --socket="$SOCK" -u "$ADMIN" ping >/dev/null 2>&1; }

# Whether something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

choose_port() {
  if [[ -f $DIR/port ]] && ! port_busy "$(<"$DIR/port")"; then cat "$DIR/port"; return; fi
  local p=${TANDEM_MARIADB_PORT:-3307}
  while port_busy "$p"; do
    p=$((p + 1))
    ((p < ${TANDEM_MARIADB_PORT:-3307} + 100)) || die "no free port from ${TANDEM_MARIADB_PORT:-3307} up"
  done
  echo "$p" >"$DIR/port"
  echo "$p"
}

write_env() {
  {
    echo "TANDEM_TEST_DB_HOST=127.0.0.1"
    echo "TANDEM_TEST_DB_PORT=$(<"$DIR/port")"
    echo "TANDEM_TEST_DB_USER=$DB_USER"
    echo "TANDEM_TEST_DB_PASSWORD=$(<"$DIR/password")"
    echo "TANDEM_TEST_DB_NAME=$DB_NAME"
  } >"$ENVFILE"
}

# The test database, its user and their grants (idempotent: `up` applies it
# to a server that already runs too, so a new grant reaches it).
provision() {
  local password
  password=$(<"$DIR/password")
  client <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$password';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$password';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
-- The drill's two writers, one a region (make drill): us-east-1's old writer
-- and us-east-2's promoted one.
CREATE DATABASE IF NOT EXISTS tandem_drill_us_east_1;
CREATE DATABASE IF NOT EXISTS tandem_drill_us_east_2;
GRANT ALL PRIVILEGES ON tandem_drill_us_east_1.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON tandem_drill_us_east_2.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
-- The rotation tests make a user of their own and change its password
-- mid-run (never this user's, which the other tests share).
GRANT CREATE USER ON *.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
SQL
}

up() {
  mkdir -p "$DIR"
  local pid tries=0
  if pid=$(running_pid); then
    # Ours, perhaps still starting: wait for it rather than start a second one on the same data.
    until ping; do
      ((++tries <= 600)) || die "the server (pid $pid) runs on ${DATA#"$ROOT"/} but does not answer; stop it with scripts/mariadb.sh down"
      sleep 0.1
    done
    provision
    say "already running on 127.0.0.1:$(<"$DIR/port") (pid $pid)"
    return
  fi
  local t=$SECONDS
  server_bin >/dev/null || install_server
  local mariadbd install_db
  mariadbd=$(server_bin) || die "mariadb-server is installed but no mariadbd or mysqld is on PATH"
  install_db=$(find_bin mariadb-install-db mysql_install_db) || die "no mariadb-install-db or mysql_install_db found"
  find_bin mariadb mysql >/dev/null || die "no mariadb client found: install mariadb-client"
  local as_user=()
  [[ $(id -u) -eq 0 ]] && as_user=(--user="$ADMIN")

  if [[ ! -d $DATA/mysql ]]; then
    say "initialising ${DATA#"$ROOT"/}"
    rm -rf "$DATA"
    # Only the admin account, authenticated by its OS user through the socket: no password to keep.
    "$install_db" --no-defaults --datadir="$DATA" "${as_user[@]}" \
      --auth-root-authentication-method=socket --auth-root-socket-user="$ADMIN" \
      --skip-test-db >"$DIR/install-db.log" 2>&1 ||
      { tail -n 20 "$DIR/install-db.log" >&2; die "$(basename "$install_db") failed; the log is in ${DIR#"$ROOT"/}/install-db.log"; }
  fi
  [[ -s $DIR/password ]] || { (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$DIR/password"); }
  local port
  port=$(choose_port)
  rm -f "$PIDFILE" "$SOCK" "$ENVFILE"
  # Small buffers: a test server starts in seconds and uses little memory.
  setsid "$mariadbd" --no-defaults --datadir="$DATA" "${as_user[@]}" \
    --bind-address=127.0.0.1 --port="$port" --socket="$SOCK" --pid-file="$PIDFILE" \
    --log-error="$LOG" --skip-name-resolve --innodb-buffer-pool-size=16M \
    --innodb-log-file-size=16M --max-connections=100 </dev/null >>"$LOG" 2>&1 &
  local launched=$!
  until ping; do
    if ! kill -0 "$launched" 2>/dev/null; then
      tail -n 20 "$LOG" >&2
      die "the server stopped while starting; its log is ${LOG#"$ROOT"/}"
    fi
    ((++tries <= 600)) || { kill "$launched" 2>/dev/null || true; die "the server did not answer within 60s; its log is ${LOG#"$ROOT"/}"; }
    sleep 0.1
  done
  provision
  write_env
  say "running on 127.0.0.1:$port (pid $(running_pid || echo "$launched"), database $DB_NAME, user $DB_USER) in $((SECONDS - t))s"
}

down() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$ENVFILE"
    say "not running"
    return
  fi
  kill -TERM "$pid"
  local tries=0
  while kill -0 "$pid" 2>/dev/null; do
    ((++tries <= 300)) || { say "still stopping after 30s; killing pid $pid"; kill -KILL "$pid" 2>/dev/null || true; break; }
    sleep 0.1
  done
  rm -f "$ENVFILE" "$PIDFILE"
  say "stopped (pid $pid)"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  env)
    running_pid >/dev/null && [[ -f $ENVFILE ]] || die "not running; start it with scripts/mariadb.sh up"
    sed 's/^/export /' "$ENVFILE"
    ;;
  status)
    if pid=$(running_pid) && ping; then say "running on 127.0.0.1:$(<"$DIR/port") (pid $pid)"; else say "not running"; exit 1; fi
    ;;
  *) echo "usage: scripts/mariadb.sh up|down|env|status" >&2; exit 2 ;;
esac
