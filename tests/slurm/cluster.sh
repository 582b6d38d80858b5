#!/bin/bash
# A single-node Slurm cluster on this machine, for the executor tests and for trying the
# README's cluster section: munged, slurmctld and slurmd on loopback, all state under DIR,
# no systemd and no cgroups (proctrack/linuxproc, task/none), 4 CPU slots so that two or
# more jobs run at once even on a 2-core machine (SlurmdParameters=config_overrides lets
# slurmd declare more CPUs than the machine has).
#
#   tests/slurm/cluster.sh start DIR   # prints the line to eval: export SLURM_CONF=DIR/slurm.conf
#   tests/slurm/cluster.sh stop DIR
#
# Exit status: 0 started; 77 Slurm or munge is not installed (apt-get install slurmctld
# slurmd slurm-client munge), with the reason on stderr; 1 a daemon did not come up, with
# the end of its log on stderr.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

stop() {
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    if [[ -f "$pidfile" ]]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
  done
  # slurmd leaves its job steps' processes to the daemons it started: end them too.
  sleep 1
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    if [[ -f "$pidfile" ]]; then
      kill -9 "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
[[ "$cmd" == start ]] || { echo "$0: unknown command '$cmd' (start or stop)" >&2; exit 2; }

for tool in munged slurmctld slurmd sbatch squeue scontrol scancel; do
  if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$tool ]]; then
    echo "$tool is not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2
    exit 77
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "the test cluster runs its daemons as root (slurmd must start jobs as their users)" >&2
  exit 77
fi
PATH=/usr/sbin:$PATH

mkdir -p "$dir"/{munge,spool/ctld,spool/d,log}
chmod 755 "$dir"
chmod 700 "$dir/munge"
if [[ ! -f "$dir/munge/munge.key" ]]; then
  head -c 128 /dev/urandom >"$dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
fi

# Ports: two free ones above 20000, derived from this shell's pid, so that two clusters
# (two test runs at once) do not meet.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=$((20000 + ($$ % 20000) * 2))
while ! port_free "$base" || ! port_free $((base + 1)); do base=$((base + 2)); done
host=$(hostname -s)
cpus=4

cat >"$dir/slurm.conf" <<CONF
# Written by tests/slurm/cluster.sh: a single-node test cluster.
ClusterName=asaflowtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=16000 State=UNKNOWN
# Preemption, to test how jobs that lose their CPUs are reported: a job in 'urgent'
# cancels jobs of 'debug' it needs the CPUs of (their state: PREEMPTED).
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=urgent Nodes=$host MaxTime=INFINITE State=UP PriorityTier=10
CONF
export SLURM_CONF="$dir/slurm.conf"

fail() {
  echo "$1" >&2
  for log in "$dir"/log/*.log; do
    [[ -f "$log" ]] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
  done
  stop
  exit 1
}

munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --log-file="$dir/log/munged.log" --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/seed" ||
  fail "munged did not start"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
fail "the node did not become idle within 30 s (sinfo: $(sinfo -h -o '%T %E' 2>&1 | head -1))"
