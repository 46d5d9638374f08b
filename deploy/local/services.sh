#!/usr/bin/env bash
# The invoice service's real backing services, installed and run as local processes (no Docker):
#   kafka     Apache Kafka broker, KRaft mode, one node that is both broker and controller
#   postgres  PostgreSQL (Debian's package), FerretDB's storage, with GIN indexes beside FerretDB's own
#   ferretdb  FerretDB v1 (MongoDB wire protocol) on that PostgreSQL
#   minio     MinIO (S3 API), plus the invoice bucket
#
# Usage: deploy/local/services.sh install|start|stop|restart|status|migrate-sqlite
#        start, stop and restart take service names to act on some only (default: all)
#
# Everything lives under $LOCAL_DIR (default <repo>/.local, git-ignored):
#   bin/           ferretdb and minio binaries (go install); PostgreSQL is the system's (apt)
#   kafka/libs/    Kafka jars (Maven)        kafka-server.properties (written by this script on start)
#   kafka-tls/     the SASL_SSL listener's CA, certificates and secrets   kafka-sasl.env   its client settings
#   data/<name>/   service data        logs/<name>.log   service output        run/<name>.pid   pids
# Every service listens on 127.0.0.1 only. Settings are env vars; see the defaults below.
set -euo pipefail

# Resolve the repo root from this file, so the script works from any working directory.
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

LOCAL_DIR=${LOCAL_DIR:-$ROOT/.local}
# BIN_DIR and KAFKA_HOME may point at another LOCAL_DIR's installation: the fault tests run a private set
# of services (own ports and data) from the same binaries, never a copy of them.
BIN_DIR=${BIN_DIR:-$LOCAL_DIR/bin}
LOG_DIR=$LOCAL_DIR/logs
RUN_DIR=$LOCAL_DIR/run
DATA_DIR=$LOCAL_DIR/data
HOST=127.0.0.1

# Kafka: the Maven artifacts org.apache.kafka:kafka_2.13:$KAFKA_VERSION, run with the system java.
KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_NUM_PARTITIONS=${KAFKA_NUM_PARTITIONS:-4}  # for auto-created topics
# A second listener beside PLAINTEXT: SASL_SSL (TLS with a CA made here; SCRAM-SHA-512, SCRAM-SHA-256 and
# PLAIN logins). Its user's password is made once (or KAFKA_SASL_PASSWORD); clients find everything in
# $KAFKA_SASL_CLIENT_ENV, as INVOICE_* settings (README "Kafka security").
KAFKA_SASL_PORT=${KAFKA_SASL_PORT:-9094}
KAFKA_SASL_USER=${KAFKA_SASL_USER:-invoice}
KAFKA_TLS_DIR=$LOCAL_DIR/kafka-tls
KAFKA_SASL_CLIENT_ENV=$LOCAL_DIR/kafka-sasl.env
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
KAFKA_HOME=${KAFKA_HOME:-$LOCAL_DIR/kafka}
KAFKA_CONFIG=$LOCAL_DIR/kafka-server.properties  # per LOCAL_DIR: a shared KAFKA_HOME keeps only jars
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
MVN_ARGS=${MVN_ARGS:-}  # e.g. -Dmaven.repo.local=/tmp/m2; mvn itself also reads MAVEN_OPTS

# PostgreSQL from Debian's package (deploy/local/system-packages.sh installs it): one cluster in
# data/postgres, TCP on 127.0.0.1 only, its Unix socket in a folder only the service user can enter.
# Port 5433, not 5432: a system cluster of the same package may hold that one.
POSTGRES_BIN=${POSTGRES_BIN:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
POSTGRES_PORT=${POSTGRES_PORT:-5433}
POSTGRES_SHARED_BUFFERS=${POSTGRES_SHARED_BUFFERS:-256MB}  # PostgreSQL's own cache; its default is 128MB
POSTGRES_SOCKET_DIR=$RUN_DIR/postgres
# FerretDB's login to PostgreSQL; a secret (passed in FerretDB's environment, never on a command line).
FERRETDB_POSTGRES_PASSWORD=${FERRETDB_POSTGRES_PASSWORD:-ferretdb}
FERRETDB_POOL_MAX_CONNS=${FERRETDB_POOL_MAX_CONNS:-400}

# FerretDB v1 and MinIO are built from source with `go install` (GOPATH, GOMODCACHE, GOCACHE are honoured).
GO=${GO:-go}
FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}
MONGO_PORT=${MONGO_PORT:-27017}
FERRETDB_DEBUG_ADDR=${FERRETDB_DEBUG_ADDR:-$HOST:8088}  # metrics/pprof listener; "-" turns it off
# MinIO publishes no semver tags, so `@latest` is the newest commit on its default branch. Pinned to what
# @latest resolved to when this was written, so that `install` can tell whether the binary is current;
# MINIO_VERSION=latest asks the Go proxy each time instead.
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
MINIO_PORT=${MINIO_PORT:-9000}
MINIO_CONSOLE_PORT=${MINIO_CONSOLE_PORT:-9001}
MINIO_ROOT_USER=${MINIO_ROOT_USER:-minioadmin}
MINIO_ROOT_PASSWORD=${MINIO_ROOT_PASSWORD:-minioadmin}
MINIO_BROWSER=${MINIO_BROWSER:-off}  # the web console is not needed and costs memory
INVOICE_S3_BUCKET=${INVOICE_S3_BUCKET:-invoices}

START_TIMEOUT=${START_TIMEOUT:-60}  # seconds each service gets to answer after start
STOP_TIMEOUT=${STOP_TIMEOUT:-30}    # seconds between SIGTERM and SIGKILL

# Readiness checks and bucket creation are in ready.py. The Kafka and MongoDB checks need only the standard
# library; creating the bucket needs boto3, which the project's venv has, so prefer that interpreter.
if [[ -z ${PYTHON:-} ]]; then
    if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
READY="$SCRIPT_DIR/ready.py"

SERVICES=(kafka postgres ferretdb minio)  # started in this order, stopped in the reverse

# ---------------------------------------------------------------------------------------------- helpers

say() { echo "services: $*"; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }

# A word of the command line that identifies each service's process, so that a stale pid file whose
# pid now belongs to another process is not mistaken for a running service.
process_marker() {
    case $1 in
        kafka) echo "kafka.Kafka" ;;
        postgres) echo "-D $DATA_DIR/postgres" ;;
        ferretdb) echo "$BIN_DIR/ferretdb" ;;
        minio) echo "$BIN_DIR/minio" ;;
    esac
}

# Print the pid of the service if it is running (per its pid file), else nothing.
running_pid() {
    local file pid
    file=$(pid_file "$1")
    [[ -f $file ]] || return 0
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(process_marker "$1")"; then
        echo "$pid"
    fi
}

# True if something already listens on 127.0.0.1:$1 (bash's /dev/tcp, no extra tools needed).
port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

address_of() {
    case $1 in
        kafka) echo "$HOST:$KAFKA_PORT, SASL_SSL $HOST:$KAFKA_SASL_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)" ;;
        postgres) echo "postgres://$HOST:$POSTGRES_PORT/ferretdb" ;;
        ferretdb) echo "mongodb://$HOST:$MONGO_PORT (storage: postgres on $HOST:$POSTGRES_PORT)" ;;
        minio) echo "http://$HOST:$MINIO_PORT (bucket $INVOICE_S3_BUCKET)" ;;
    esac
}

# The version of a module that `go install` put in a binary ("" if there is no such binary).
installed_go_version() {
    local binary=$1 module=$2
    [[ -x $binary ]] || return 0
    "$GO" version -m "$binary" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }'
}

# go install MODULE@VERSION into $BIN_DIR unless the binary there is already that version.
go_install() {
    local name=$1 module=$2 package=$3 version=$4 wanted have
    wanted=$version
    if [[ $version == latest ]]; then
        wanted=$("$GO" list -m -f '{{.Version}}' "$module@latest")
    fi
    have=$(installed_go_version "$BIN_DIR/$name" "$module")
    if [[ $have == "$wanted" ]]; then
        say "$name $have already installed"
        return 0
    fi
    say "installing $name $wanted with go install (a build from source: minutes on a small machine) ..."
    mkdir -p "$BIN_DIR"
    # CGO off: both are pure Go (FerretDB's SQLite is modernc.org/sqlite), and no C compiler is needed.
    GOBIN=$BIN_DIR CGO_ENABLED=0 "$GO" install "$package@$wanted"
    say "$name installed: $(installed_go_version "$BIN_DIR/$name" "$module")"
}

# Start a command in the background, detached from this shell (own session, immune to hangups),
# output appended to the service's log, and record its pid.
spawn() {
    local name=$1
    shift
    local log
    log=$(log_file "$name")
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    echo "===== $(date '+%F %T') services.sh start $name" >>"$log"
    # setsid and nohup both exec the command, so $! is the service's own pid.
    setsid nohup "$@" >>"$log" 2>&1 </dev/null &
    echo $! >"$(pid_file "$name")"
}

# Print why a service did not come up and exit non-zero.
fail_start() {
    local name=$1 reason=$2 log
    log=$(log_file "$name")
    {
        echo "services: ERROR: $name $reason"
        echo "services: its log is $log; last 30 lines:"
        tail -n 30 "$log" 2>/dev/null | sed 's/^/    /'
    } >&2
    exit 1
}

# Call CHECK (a function) every second until it succeeds; fail if the process dies or the deadline passes.
wait_ready() {
    local name=$1 check=$2 deadline=$((SECONDS + START_TIMEOUT)) pid
    pid=$(<"$(pid_file "$name")")
    while true; do
        if "$check" >/dev/null 2>&1; then
            return 0
        fi
        if [[ ! -d /proc/$pid ]]; then
            rm -f "$(pid_file "$name")"
            fail_start "$name" "exited during startup (pid $pid)"
        fi
        if ((SECONDS >= deadline)); then
            fail_start "$name" "did not answer within ${START_TIMEOUT}s (pid $pid still running; '$0 stop' stops it)"
        fi
        sleep 1
    done
}

# Refuse to start if another process (not ours) holds one of the service's ports.
require_free_ports() {
    local name=$1 port
    shift
    for port in "$@"; do
        if port_in_use "$port"; then
            die "$name: $HOST:$port is already in use by another process (not started by this script); stop it or set another port"
        fi
    done
}

# PostgreSQL's SIGTERM waits for every client to leave; SIGINT is its fast shutdown (clean, no data lost).
stop_signal() {
    case $1 in
        postgres) echo INT ;;
        *) echo TERM ;;
    esac
}

# SIGTERM (or the service's own stop signal), wait up to STOP_TIMEOUT, then SIGKILL.
stop_service() {
    local name=$1 pid deadline
    pid=$(running_pid "$name")
    if [[ -z $pid ]]; then
        rm -f "$(pid_file "$name")"
        say "$name not running"
        return 0
    fi
    say "stopping $name (pid $pid) ..."
    kill -"$(stop_signal "$name")" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do
        sleep 0.5
    done
    if [[ -d /proc/$pid ]]; then
        say "$name did not stop within ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while [[ -d /proc/$pid ]]; do sleep 0.2; done
    fi
    rm -f "$(pid_file "$name")"
    say "$name stopped"
}

# ------------------------------------------------------------------------------------------------ kafka

install_kafka() {
    local libs=$KAFKA_HOME/libs
    if [[ -f $libs/kafka_2.13-$KAFKA_VERSION.jar && $(cat "$KAFKA_HOME/version" 2>/dev/null) == "$KAFKA_VERSION" ]]; then
        say "kafka $KAFKA_VERSION already installed"
        return 0
    fi
    say "installing kafka $KAFKA_VERSION jars from Maven Central ..."
    # A fresh folder, so jars of another version never end up on the same classpath.
    rm -rf "$libs" "$KAFKA_HOME/version"
    mkdir -p "$libs"
    # shellcheck disable=SC2086  # MVN_ARGS is a list of words on purpose
    "$MVN" -q -B -f "$SCRIPT_DIR/kafka/pom.xml" $MVN_ARGS -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$libs"
    echo "$KAFKA_VERSION" >"$KAFKA_HOME/version"
    say "kafka installed: $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}

# The java command line of Kafka's own kafka-run-class.sh, with a smaller heap; the main class follows.
kafka_java_command() {
    # shellcheck disable=SC2206  # KAFKA_HEAP_OPTS is a list of words on purpose
    KAFKA_JAVA=("$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/log4j2.xml"
        -cp "$KAFKA_HOME/libs/*")
}

# A secret made once and kept in $KAFKA_TLS_DIR (readable by its owner only); $2 overrides it when set.
kafka_secret() {
    local file=$KAFKA_TLS_DIR/$1 given=${2:-}
    mkdir -p "$KAFKA_TLS_DIR"
    if [[ -n $given ]]; then
        (umask 077 && printf '%s' "$given" >"$file")
    elif [[ ! -s $file ]]; then
        (umask 077 && openssl rand -hex 24 | tr -d '\n' >"$file")
    fi
    cat "$file"
}

# The SASL_SSL listener's TLS material, made with openssl: a CA (its key deleted once it has signed, so
# nothing else can be signed with it), the broker's certificate for 127.0.0.1/localhost and a client
# certificate for mutual TLS, their keys encrypted (PKCS#8) with secrets of their own. Made again when a
# file is missing or a certificate expires within 30 days.
make_kafka_tls() {
    local dir=$KAFKA_TLS_DIR name cipher
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ -s $dir/ca.crt && -s $dir/server.pem && -s $dir/client.key ]] &&
        openssl x509 -checkend $((30 * 86400)) -noout -in "$dir/server.crt" >/dev/null 2>&1 &&
        openssl x509 -checkend $((30 * 86400)) -noout -in "$dir/client.crt" >/dev/null 2>&1; then
        return 0
    fi
    say "making the SASL_SSL listener's CA and certificates in $dir"
    (
        set -e
        umask 077
        cd "$dir"
        rm -f ca.* server.* client.*
        new_key() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }
        new_key -x509 -keyout ca.key -out ca.crt -days 3650 -subj "/CN=invoice-service local Kafka CA"
        for name in server client; do
            kafka_secret "$name-key-password" >/dev/null
            new_key -keyout "$name.key.plain" -out "$name.csr" -subj "/CN=invoice-$name"
            if [[ $name == server ]]; then
                printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$HOST" >"$name.ext"
            else
                printf 'extendedKeyUsage=clientAuth\n' >"$name.ext"
            fi
            openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
                -days 825 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
            # The broker's key in PBES1 (3DES): Java 17 cannot read PBES2 keys; the client's in PBES2 (AES).
            cipher=(-v2 aes-256-cbc)
            [[ $name == client ]] || cipher=(-v1 PBE-SHA1-3DES)
            openssl pkcs8 -topk8 "${cipher[@]}" -in "$name.key.plain" -out "$name.key" \
                -passout "file:$name-key-password"
            rm -f "$name.key.plain" "$name.csr" "$name.ext"
        done
        rm -f ca.key
        cat server.key server.crt >server.pem  # Kafka's PEM keystore: the key, then its certificate
        chmod 644 ca.crt
    ) || die "kafka: making the TLS material in $dir failed (is openssl installed?)"
}

# StorageTool's [name=...,password=...] and the JAAS line cannot quote these characters. Checked in the
# script's own shell: the functions below run in subshells, where `die` would not stop the start.
check_kafka_sasl_user() {
    local password
    password=$(kafka_secret sasl-password "${KAFKA_SASL_PASSWORD:-}")
    [[ $password != *[],[\"=\;]* && $KAFKA_SASL_USER =~ ^[A-Za-z0-9._-]+$ ]] ||
        die "kafka: KAFKA_SASL_USER may hold only letters, digits and . _ -, KAFKA_SASL_PASSWORD none of [ ] , \" = ;"
}

# The SCRAM users, as StorageTool's --add-scram arguments; and their checksum, which the data folder keeps
# (scram-users.sha256) so that a later start knows whether the stored users are these.
kafka_scram_arguments() {
    local password mechanism
    password=$(kafka_secret sasl-password "${KAFKA_SASL_PASSWORD:-}")
    for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
        printf '%s\n' --add-scram "$mechanism=[name=$KAFKA_SASL_USER,password=$password]"
    done
}
kafka_scram_checksum() { kafka_scram_arguments | sha256sum | cut -c1-64; }

# A data folder formatted by an older services.sh (or with other users) has not these SCRAM users: add
# them through the broker's Admin API (deploy/local/kafka/ScramUsers.java, run by java's source launcher),
# with the secrets in its environment, never on its command line.
ensure_kafka_scram_users() {
    local marker=$DATA_DIR/kafka/scram-users.sha256 wanted
    wanted=$(kafka_scram_checksum)
    [[ $(cat "$marker" 2>/dev/null) == "$wanted" ]] && return 0
    say "adding the SCRAM user '$KAFKA_SASL_USER' to the existing kafka data"
    KAFKA_BOOTSTRAP="$HOST:$KAFKA_PORT" SCRAM_USER="$KAFKA_SASL_USER" \
        SCRAM_PASSWORD="$(kafka_secret sasl-password "${KAFKA_SASL_PASSWORD:-}")" \
        "$JAVA" -cp "$KAFKA_HOME/libs/*" -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/log4j2.xml" \
        "$SCRIPT_DIR/kafka/ScramUsers.java" >>"$(log_file kafka)" 2>&1 ||
        fail_start kafka "adding the SCRAM users failed"
    echo "$wanted" >"$marker"
}

# The client settings of the SASL_SSL listener, for the tests and for `set -a; . .local/kafka-sasl.env`.
write_kafka_client_env() {
    local dir=$KAFKA_TLS_DIR
    touch "$KAFKA_SASL_CLIENT_ENV"
    chmod 600 "$KAFKA_SASL_CLIENT_ENV"
    cat >"$KAFKA_SASL_CLIENT_ENV" <<EOF
# Written by deploy/local/services.sh on every start of kafka: the settings (infra/settings.py) of a client
# of the local SASL_SSL listener. Holds secrets: readable by its owner only, never committed.
INVOICE_KAFKA_BOOTSTRAP_SERVERS=$HOST:$KAFKA_SASL_PORT
INVOICE_KAFKA_SECURITY_PROTOCOL=SASL_SSL
INVOICE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
INVOICE_KAFKA_SASL_USERNAME=$KAFKA_SASL_USER
INVOICE_KAFKA_SASL_PASSWORD=$(kafka_secret sasl-password "${KAFKA_SASL_PASSWORD:-}")
INVOICE_KAFKA_SSL_CAFILE=$dir/ca.crt
# Mutual TLS (optional on this listener: the broker checks a client certificate when one is presented).
INVOICE_KAFKA_SSL_CERTFILE=$dir/client.crt
INVOICE_KAFKA_SSL_KEYFILE=$dir/client.key
INVOICE_KAFKA_SSL_KEY_PASSWORD=$(kafka_secret client-key-password)
EOF
}

write_kafka_config() {
    mkdir -p "$DATA_DIR/kafka"
    make_kafka_tls
    local tls=$KAFKA_TLS_DIR password
    password=$(kafka_secret sasl-password "${KAFKA_SASL_PASSWORD:-}")
    # Holds the listener's secrets: readable by its owner only (also when an earlier start wrote it).
    touch "$KAFKA_CONFIG"
    chmod 600 "$KAFKA_CONFIG"
    cat >"$KAFKA_CONFIG" <<EOF
# Written by deploy/local/services.sh on every start; edit the script, not this file.
# One node that is both the KRaft controller and the broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT,SASL_SSL://$HOST:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,SASL_SSL://$HOST:$KAFKA_SASL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA_DIR/kafka

# The SASL_SSL listener: TLS with the certificate of $tls, logins by SCRAM (users stored in the cluster's
# metadata: created at format time) or PLAIN (the user below).
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$password";
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$tls/server.pem
listener.name.sasl_ssl.ssl.key.password=$(kafka_secret server-key-password)
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$tls/ca.crt
listener.name.sasl_ssl.ssl.client.auth=requested

# A single broker: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Development conveniences: topics appear on first use with the service's partition count, and
# consumer groups start at once instead of waiting 3 s for more members.
auto.create.topics.enable=true
num.partitions=$KAFKA_NUM_PARTITIONS
group.initial.rebalance.delay.ms=0
EOF
}

# Format the storage once: KRaft refuses to start on an unformatted log dir.
format_kafka_storage() {
    [[ -f $DATA_DIR/kafka/meta.properties ]] && return 0
    local cluster_id log
    log=$(log_file kafka)
    mkdir -p "$LOG_DIR"
    kafka_java_command
    cluster_id=$("${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$log" | tail -n 1)
    say "formatting kafka storage in $DATA_DIR/kafka (cluster id $cluster_id, SCRAM user $KAFKA_SASL_USER)"
    local scram
    mapfile -t scram < <(kafka_scram_arguments)
    # The SCRAM passwords are on this command line for the second it runs: StorageTool reads no other source.
    if ! "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --cluster-id "$cluster_id" \
        --config "$KAFKA_CONFIG" "${scram[@]}" >>"$log" 2>&1; then
        fail_start kafka "storage format failed"
    fi
    kafka_scram_checksum >"$DATA_DIR/kafka/scram-users.sha256"
}

kafka_ready() {
    "$PYTHON" "$READY" kafka "$HOST" "$KAFKA_PORT" &&
        "$PYTHON" "$READY" kafka-tls "$HOST" "$KAFKA_SASL_PORT" "$KAFKA_TLS_DIR/ca.crt"
}

start_kafka() {
    local pid
    pid=$(running_pid kafka)
    if [[ -n $pid ]]; then
        say "kafka already running (pid $pid)"
        return 0
    fi
    require_free_ports kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"
    check_kafka_sasl_user
    write_kafka_config
    format_kafka_storage
    kafka_java_command
    spawn kafka "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_CONFIG"
    wait_ready kafka kafka_ready
    ensure_kafka_scram_users
    write_kafka_client_env
    say "kafka ready at $(address_of kafka); SASL_SSL client settings in $KAFKA_SASL_CLIENT_ENV"
}

# --------------------------------------------------------------------------------------------- ferretdb

install_ferretdb() {
    # Not a plain `go install ...@v1.24.2`: FerretDB embeds build/version/version.txt, which its release
    # process generates and the module zip lacks, and the binary panics at start without it. So build
    # from the module's source (fetched by the Go module proxy) with that one file written in.
    #
    # The patches under deploy/local/ferretdb/ fix what this project hit in v1.24.2 (each says why); the
    # installed build is named by the version and the patches' checksum, so a changed patch rebuilds it.
    local marker=$BIN_DIR/ferretdb.version src build patch
    build="$FERRETDB_VERSION+$(cat "$SCRIPT_DIR"/ferretdb/*.patch | sha256sum | cut -c1-12)"
    if [[ -x $BIN_DIR/ferretdb && $(cat "$marker" 2>/dev/null) == "$build" ]]; then
        say "ferretdb $build already installed"
        return 0
    fi
    say "installing ferretdb $build from source (a build: minutes on a small machine) ..."
    src=$("$GO" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$LOCAL_DIR/build/ferretdb"
    mkdir -p "$LOCAL_DIR/build" "$BIN_DIR"
    cp -r "$src" "$LOCAL_DIR/build/ferretdb"
    chmod -R u+w "$LOCAL_DIR/build/ferretdb"
    echo "$FERRETDB_VERSION" >"$LOCAL_DIR/build/ferretdb/build/version/version.txt"
    for patch in "$SCRIPT_DIR"/ferretdb/*.patch; do
        (cd "$LOCAL_DIR/build/ferretdb" && GIT_CEILING_DIRECTORIES="$LOCAL_DIR/build" git apply "$patch") || die "ferretdb: $patch does not apply to $FERRETDB_VERSION"
    done
    (cd "$LOCAL_DIR/build/ferretdb" && CGO_ENABLED=0 "$GO" build -o "$BIN_DIR/ferretdb" ./cmd/ferretdb)
    rm -rf "$LOCAL_DIR/build/ferretdb"
    echo "$build" >"$marker"
    say "ferretdb installed: $("$BIN_DIR/ferretdb" --version 2>&1 | head -n 1)"
}

# --------------------------------------------------------------------------------------------- postgres

# PostgreSQL refuses to run as root; as root, its processes run as the `postgres` user that Debian's
# package creates, and own their folders.
POSTGRES_AS_USER=()
[[ $(id -u) != 0 ]] || POSTGRES_AS_USER=(setpriv --reuid=postgres --regid=postgres --init-groups)

as_postgres_user() { (cd / && "${POSTGRES_AS_USER[@]}" "$@"); }

postgres_owned_dir() {
    mkdir -p "$1"
    chmod 700 "$1"
    [[ $(id -u) != 0 ]] || chown postgres:postgres "$1"
}

install_postgres() {
    [[ -n $POSTGRES_BIN && -x $POSTGRES_BIN/postgres ]] ||
        die "PostgreSQL not found under /usr/lib/postgresql (bash deploy/local/system-packages.sh installs it; or set POSTGRES_BIN)"
    say "postgres $("$POSTGRES_BIN/postgres" --version | awk '{print $3}') found in $POSTGRES_BIN"
}

# The superuser reaches the cluster through its private Unix socket (trust: only the service user can
# enter that folder); everything else, FerretDB included, over TCP with a password.
psql_admin() {
    as_postgres_user "$POSTGRES_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$POSTGRES_SOCKET_DIR" -p "$POSTGRES_PORT" \
        -U postgres "$@"
}

postgres_ready() { as_postgres_user "$POSTGRES_BIN/pg_isready" -q -h "$HOST" -p "$POSTGRES_PORT"; }

# FerretDB's role and database, and the trigger that adds a GIN index beside each of FerretDB's btree
# indexes (deploy/local/postgres/gin-beside-btree.sql says why). Idempotent: runs on every start.
setup_ferretdb_database() {
    psql_admin -d postgres -v password="$FERRETDB_POSTGRES_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE ferretdb LOGIN PASSWORD %L', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ferretdb') \gexec
SELECT format('ALTER ROLE ferretdb PASSWORD %L', :'password') \gexec
SELECT 'CREATE DATABASE ferretdb OWNER ferretdb'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ferretdb') \gexec
SQL
    psql_admin -d ferretdb -f - <"$SCRIPT_DIR/postgres/gin-beside-btree.sql" >/dev/null
}

start_postgres() {
    local pid data=$DATA_DIR/postgres
    pid=$(running_pid postgres)
    if [[ -n $pid ]]; then
        say "postgres already running (pid $pid)"
    else
        require_free_ports postgres "$POSTGRES_PORT"
        mkdir -p "$DATA_DIR"
        as_postgres_user test -x "$DATA_DIR" ||
            die "postgres: the user 'postgres' cannot enter $DATA_DIR (a parent folder is private); set LOCAL_DIR to a folder it can reach"
        postgres_owned_dir "$POSTGRES_SOCKET_DIR"
        if [[ ! -f $data/PG_VERSION ]]; then
            postgres_owned_dir "$data"
            say "creating the postgres cluster in $data"
            as_postgres_user "$POSTGRES_BIN/initdb" -D "$data" -U postgres --auth-local=trust \
                --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >>"$(log_file postgres)" 2>&1 ||
                fail_start postgres "initdb failed"
        fi
        # plan_cache_mode: FerretDB's driver caches prepared statements; a generic plan of
        # `_jsonb -> $1 @> $2` cannot use an expression index, a plan for the actual field name can.
        spawn postgres "${POSTGRES_AS_USER[@]}" "$POSTGRES_BIN/postgres" -D "$data" \
            -c listen_addresses="$HOST" -c port="$POSTGRES_PORT" \
            -c unix_socket_directories="$POSTGRES_SOCKET_DIR" \
            -c plan_cache_mode=force_custom_plan -c max_connections=$((FERRETDB_POOL_MAX_CONNS + 20)) \
            -c shared_buffers="$POSTGRES_SHARED_BUFFERS"
        wait_ready postgres postgres_ready
    fi
    setup_ferretdb_database || fail_start postgres "setting up FerretDB's database failed"
    say "postgres ready at $(address_of postgres)"
}

ferretdb_ready() { "$PYTHON" "$READY" mongo "$HOST" "$MONGO_PORT"; }

# FerretDB on PostgreSQL, addressed by the URL in its environment, so the password stays off `ps`.
spawn_ferretdb() {
    local name=$1 port=$2
    shift 2
    # pool_max_conns: FerretDB holds a connection for each open cursor; with its default of 50, a burst of
    # open cursors plus one dropDatabase (which waits for a connection while holding FerretDB's metadata
    # lock) stalls every client. PostgreSQL's max_connections (below) leaves room above it.
    spawn "$name" env FERRETDB_POSTGRESQL_URL="postgres://ferretdb:$FERRETDB_POSTGRES_PASSWORD@$HOST:$POSTGRES_PORT/ferretdb?pool_max_conns=$FERRETDB_POOL_MAX_CONNS" \
        "$BIN_DIR/ferretdb" --listen-addr="$HOST:$port" --telemetry=disable "$@"
}

start_ferretdb() {
    local pid
    pid=$(running_pid ferretdb)
    if [[ -n $pid ]]; then
        say "ferretdb already running (pid $pid)"
        return 0
    fi
    require_free_ports ferretdb "$MONGO_PORT"
    mkdir -p "$DATA_DIR/ferretdb-state"  # FerretDB's state.json (instance UUID)
    spawn_ferretdb ferretdb "$MONGO_PORT" --handler=postgresql \
        --debug-addr="$FERRETDB_DEBUG_ADDR" --state-dir="$DATA_DIR/ferretdb-state"
    wait_ready ferretdb ferretdb_ready
    say "ferretdb ready at $(address_of ferretdb)"
}

# ----------------------------------------------------------------------- migrating the earlier SQLite store
# Until FerretDB ran on PostgreSQL, it kept its data in SQLite files in data/ferretdb/. migrate-sqlite
# serves those files with a second FerretDB on another port, copies every database, collection, index
# and document into the running store (a document already there is kept), and then moves the files
# to data/ferretdb-sqlite-migrated/, so it runs once.

MIGRATION_PORT=${MIGRATION_PORT:-27018}

sqlite_data_files() { find "$DATA_DIR/ferretdb" -maxdepth 1 -name '*.sqlite' 2>/dev/null; }

cmd_migrate_sqlite() {
    if [[ -z $(sqlite_data_files) ]]; then
        say "no SQLite data in $DATA_DIR/ferretdb: nothing to migrate"
        return 0
    fi
    cmd_start
    require_free_ports ferretdb-sqlite "$MIGRATION_PORT"
    say "serving the SQLite data on $HOST:$MIGRATION_PORT to copy it"
    spawn ferretdb-sqlite "$BIN_DIR/ferretdb" --handler=sqlite --sqlite-url="file:$DATA_DIR/ferretdb/" \
        --listen-addr="$HOST:$MIGRATION_PORT" --debug-addr=- --telemetry=disable \
        --state-dir="$DATA_DIR/ferretdb-state"
    migration_source_ready() { "$PYTHON" "$READY" mongo "$HOST" "$MIGRATION_PORT"; }
    wait_ready ferretdb-sqlite migration_source_ready
    local status=0
    "$PYTHON" "$SCRIPT_DIR/copy_store.py" "mongodb://$HOST:$MIGRATION_PORT" "mongodb://$HOST:$MONGO_PORT" || status=$?
    kill -TERM "$(<"$(pid_file ferretdb-sqlite)")" 2>/dev/null || true
    rm -f "$(pid_file ferretdb-sqlite)"
    if ((status != 0)); then
        die "the copy failed (nothing was moved; running '$0 migrate-sqlite' again continues it)"
    fi
    mkdir -p "$DATA_DIR/ferretdb-sqlite-migrated"
    mv "$DATA_DIR"/ferretdb/* "$DATA_DIR/ferretdb-sqlite-migrated/"
    say "migrated; the SQLite files are kept in $DATA_DIR/ferretdb-sqlite-migrated/ (delete them when satisfied)"
}

# ------------------------------------------------------------------------------------------------ minio

install_minio() {
    go_install minio github.com/minio/minio github.com/minio/minio "$MINIO_VERSION"
}

minio_ready() { curl -fsS --max-time 3 "http://$HOST:$MINIO_PORT/minio/health/live"; }

start_minio() {
    local pid
    pid=$(running_pid minio)
    if [[ -n $pid ]]; then
        say "minio already running (pid $pid)"
    else
        require_free_ports minio "$MINIO_PORT" "$MINIO_CONSOLE_PORT"
        mkdir -p "$DATA_DIR/minio"
        # MINIO_UPDATE=off: never look for a newer release over the network.
        spawn minio env MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" \
            MINIO_BROWSER="$MINIO_BROWSER" MINIO_UPDATE=off \
            "$BIN_DIR/minio" server "$DATA_DIR/minio" \
            --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT"
        wait_ready minio minio_ready
    fi
    # Also on an already running MinIO: the bucket may have been removed, or the name changed.
    ensure_bucket
    say "minio ready at $(address_of minio)"
}

ensure_bucket() {
    if ! "$PYTHON" -c 'import boto3' 2>/dev/null; then
        say "WARNING: $PYTHON has no boto3, bucket '$INVOICE_S3_BUCKET' not checked; build the venv (.venv) or set PYTHON"
        return 0
    fi
    MINIO_ROOT_USER=$MINIO_ROOT_USER MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD \
        "$PYTHON" "$READY" s3-bucket "http://$HOST:$MINIO_PORT" "$INVOICE_S3_BUCKET" ||
        fail_start minio "is up but bucket '$INVOICE_S3_BUCKET' could not be created"
}

# --------------------------------------------------------------------------------------------- commands

cmd_install() {
    command -v "$JAVA" >/dev/null || die "java not found (Kafka needs Java 17+)"
    command -v "$MVN" >/dev/null || die "mvn not found (used to fetch the Kafka jars)"
    command -v "$GO" >/dev/null || die "go not found (used to build FerretDB and MinIO)"
    install_kafka
    install_postgres
    install_ferretdb
    install_minio
}

# The services named on the command line (all of them without names), each checked to be one of ours.
selected_services() {
    local name known
    if (($# == 0)); then
        echo "${SERVICES[@]}"
        return 0
    fi
    for name in "$@"; do
        known=0
        for known_name in "${SERVICES[@]}"; do [[ $name == "$known_name" ]] && known=1; done
        ((known)) || die "unknown service '$name' (one of: ${SERVICES[*]})"
    done
    echo "$@"
}

cmd_start() {
    local name wanted
    wanted=" $(selected_services "$@") "
    cmd_install
    for name in "${SERVICES[@]}"; do
        [[ $wanted == *" $name "* ]] && "start_$name"
    done
    if [[ -n $(sqlite_data_files) ]]; then
        say "NOTE: $DATA_DIR/ferretdb holds data of the earlier SQLite store; '$0 migrate-sqlite' copies it over"
    fi
    wanted=${wanted# }
    say "ready: ${wanted% }"
}

# One service can be stopped alone (the fault tests do: `services.sh stop kafka`, later `start kafka`).
cmd_stop() {
    local index wanted
    wanted=" $(selected_services "$@") "
    for ((index = ${#SERVICES[@]} - 1; index >= 0; index--)); do
        [[ $wanted == *" ${SERVICES[index]} "* ]] && stop_service "${SERVICES[index]}"
    done
    return 0
}

cmd_status() {
    local name pid
    for name in "${SERVICES[@]}"; do
        pid=$(running_pid "$name")
        if [[ -n $pid ]]; then
            printf '%-9s running  pid %-8s %s\n' "$name" "$pid" "$(address_of "$name")"
        else
            printf '%-9s stopped  pid %-8s %s\n' "$name" "-" "$(address_of "$name")"
        fi
    done
}

command=${1:-}
shift || true
case $command in
    install) cmd_install ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_stop "$@" && cmd_start "$@" ;;
    status) cmd_status ;;
    migrate-sqlite) cmd_migrate_sqlite ;;
    *)
        echo "usage: $0 install|start [SERVICE...]|stop [SERVICE...]|restart [SERVICE...]|status|migrate-sqlite" >&2
        exit 2
        ;;
esac
