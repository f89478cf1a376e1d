# shellcheck shell=bash
# Sourced by .ci/run: makes Redis available to the tests of adapters/redis.
#
#   - the machine's single node on 127.0.0.1:6379 (started when it does not answer);
#   - a Redis Cluster of six nodes, three masters and three replicas, on 127.0.0.1:7000-7005,
#     from the machine's redis-server (loopback only, no persistence, a short node timeout).
#     A cluster that already answers with cluster_state:ok on every node is reused; otherwise
#     stale nodes on those ports are shut down and the cluster is created afresh under a
#     mktemp directory, and stopped again when the sourcing shell exits.
#
# It exports VERIFYKIT_REDIS_ADDR and VERIFYKIT_REDIS_CLUSTER.

redis_cluster_ports="7000 7001 7002 7003 7004 7005"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server"
  (apt-get update && apt-get install -y redis-server) >/dev/null
fi

# redis_cluster_ok PORT: the node on PORT answers and its cluster is ok.
redis_cluster_ok() {
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

# redis_cluster_all_ok: every node says cluster_state:ok, and three replicas are attached.
redis_cluster_all_ok() {
  local p
  for p in $redis_cluster_ports; do
    redis_cluster_ok "$p" || return 1
  done
  [ "$(redis-cli -h 127.0.0.1 -p 7000 cluster nodes 2>/dev/null | grep -c ' slave ')" -eq 3 ]
}

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting the single Redis node on 6379"
  redis_single_dir=$(mktemp -d)
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$redis_single_dir" --logfile "$redis_single_dir/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

if redis_cluster_all_ok; then
  echo "reusing the Redis Cluster on 7000-7005"
else
  echo "starting a Redis Cluster on 7000-7005"
  for p in $redis_cluster_ports; do # stale nodes of an earlier run
    redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  sleep 0.3
  redis_cluster_dir=$(mktemp -d)
  for p in $redis_cluster_ports; do
    mkdir -p "$redis_cluster_dir/$p"
    redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$redis_cluster_dir/$p/nodes.conf" --cluster-node-timeout 2000 \
      --save "" --appendonly no --daemonize yes --dir "$redis_cluster_dir/$p" \
      --logfile "$redis_cluster_dir/$p/redis.log" >/dev/null
  done
  for p in $redis_cluster_ports; do
    for _ in $(seq 1 50); do
      redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  redis_cluster_addrs=""
  for p in $redis_cluster_ports; do redis_cluster_addrs="$redis_cluster_addrs 127.0.0.1:$p"; done
  # shellcheck disable=SC2086 # one argument per address
  redis-cli --cluster create $redis_cluster_addrs --cluster-replicas 1 --cluster-yes >/dev/null
  for _ in $(seq 1 100); do
    redis_cluster_all_ok && break
    sleep 0.2
  done
  if ! redis_cluster_all_ok; then
    echo "the Redis Cluster did not reach cluster_state:ok" >&2
    exit 1
  fi
  redis_cluster_stop() {
    local p
    for p in $redis_cluster_ports; do
      redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
    done
    rm -rf "$redis_cluster_dir"
  }
  trap redis_cluster_stop EXIT
fi

export VERIFYKIT_REDIS_ADDR="127.0.0.1:6379"
VERIFYKIT_REDIS_CLUSTER=""
for p in $redis_cluster_ports; do
  VERIFYKIT_REDIS_CLUSTER="${VERIFYKIT_REDIS_CLUSTER:+$VERIFYKIT_REDIS_CLUSTER,}127.0.0.1:$p"
done
export VERIFYKIT_REDIS_CLUSTER
