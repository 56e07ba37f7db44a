#!/usr/bin/env bash
# Start a single-node SLURM (munged, slurmctld, slurmd) as root, without systemd.
#
#   tests/slurm/start_slurm.sh STATE_DIR
#
# Everything (config, sockets, spool, logs, pid files) lives under STATE_DIR; stop it
# with tests/slurm/stop_slurm.sh STATE_DIR. Prints the path to use as SLURM_CONF.
# Also put STATE_DIR/bin first on PATH: the Snakemake job step drops every SLURM_*
# variable (SLURM_CONF too) before its nested srun, so STATE_DIR/bin/srun puts it back,
# as /etc/slurm/slurm.conf would on a real cluster.
# Optional environment: SLURM_TEST_CTLD_PORT, SLURM_TEST_SLURMD_PORT (default 6817,
# 6818), SLURM_TEST_CPUS (default: all CPUs), SLURM_TEST_MEM_MB (default: 3/4 of RAM).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 STATE_DIR" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "$0: must run as root (slurmd starts jobs as their users)" >&2
    exit 1
fi
for tool in munged slurmctld slurmd sinfo scontrol srun; do
    command -v "$tool" >/dev/null || {
        echo "$0: $tool not found; install with: apt-get install -y slurmctld slurmd slurm-client munge" >&2
        exit 1
    }
done

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
state=$(cd "$1" && pwd)
host=$(hostname -s)
cpus=${SLURM_TEST_CPUS:-$(nproc)}
mem_mb=${SLURM_TEST_MEM_MB:-$(awk '/^MemTotal:/ {print int($2 / 1024 * 3 / 4)}' /proc/meminfo)}
ctld_port=${SLURM_TEST_CTLD_PORT:-6817}
slurmd_port=${SLURM_TEST_SLURMD_PORT:-6818}

mkdir -p "$state/etc" "$state/munge" "$state/slurmctld" "$state/slurmd" "$state/log"
# munged refuses directories that others can write to.
chmod 0755 "$state" "$state/etc" "$state/log"
chmod 0700 "$state/munge"

sed -e "s|@HOST@|$host|g" -e "s|@STATE@|$state|g" -e "s|@CPUS@|$cpus|g" \
    -e "s|@MEM_MB@|$mem_mb|g" -e "s|@CTLD_PORT@|$ctld_port|g" \
    -e "s|@SLURMD_PORT@|$slurmd_port|g" \
    "$here/slurm.conf.in" >"$state/etc/slurm.conf"
cp "$here/gres.conf" "$state/etc/gres.conf"
export SLURM_CONF="$state/etc/slurm.conf"

mkdir -p "$state/bin"
real_srun=$(type -ap srun | grep -v -x "$state/bin/srun" | head -n 1)
cat >"$state/bin/srun" <<WRAPPER
#!/bin/sh
SLURM_CONF="$SLURM_CONF" exec $real_srun "\$@"
WRAPPER
chmod 0755 "$state/bin/srun"

if [ ! -s "$state/munge/munge.key" ]; then
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$state/munge/munge.key"
fi
# The daemons must not hold this script's stdout/stderr: callers that capture them
# would otherwise wait until the daemons exit.
munged --force \
    --socket="$state/munge/munge.socket" \
    --key-file="$state/munge/munge.key" \
    --pid-file="$state/munge/munged.pid" \
    --seed-file="$state/munge/munged.seed" \
    --log-file="$state/log/munged.log" </dev/null >/dev/null 2>&1
slurmctld -f "$SLURM_CONF" </dev/null >/dev/null 2>&1
slurmd -f "$SLURM_CONF" -N "$host" </dev/null >/dev/null 2>&1

# Wait until the node accepts jobs (idle), or give up with the daemons' logs.
for _ in $(seq 1 60); do
    node_state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    case "$node_state" in
        idle*|mix*|alloc*)
            echo "$SLURM_CONF"
            exit 0
            ;;
    esac
    sleep 1
done
echo "$0: node $host did not become idle (state: '${node_state:-unknown}'); stopping" >&2
tail -n 20 "$state/log/slurmctld.log" "$state/log/slurmd.log" >&2 || true
"$here/stop_slurm.sh" "$state"
exit 1
