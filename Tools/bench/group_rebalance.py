# Join-to-refetch time of one consumer group, one round (driven by Tools/bench-group.sh).
#
# A producer writes one 100 B record to every partition of TOPIC every 10 ms for the whole
# round. MEMBERS group members (all kgo, or all librdkafka) consume it; once every partition
# has delivered records for 1 s, one more member of the same kind starts (time t0). The round
# watches for WINDOW seconds more, then stops every member (SIGTERM: commit, leave).
#
# For each partition: its final owner is the member that delivered its last record; its
# refetch time is when that owner delivered its first record of it after both t0 and the
# owner's last assignment that included it (eager: every partition stops and restarts;
# cooperative: partitions that do not move keep flowing, about 10 ms). Prints one line:
#   REBALANCE impl=.. strategy=.. refetch_s=MAX (the slowest partition) joiner_assigned_s=..
#   joiner_first_record_s=.. reassigned=N (partitions whose owner got them after t0)
#
# argv: impl(kgo|rdkafka) strategy(range|cooperative-sticky) bootstrap topic partitions
#       members session_ms window_s kgo_path rdkafka_member_script
# Every member: session timeout session_ms, heartbeat session_ms/3 (kgo's -G rule), rebalance
# timeout 60 s (kgo's default; librdkafka's max.poll.interval.ms), start at the beginning.
import os, re, signal, subprocess, sys, threading, time, json

impl, strategy, bootstrap, topic, partitions, members, session_ms, window, kgo, rdmember = sys.argv[1:11]
partitions, members, session_ms, window = int(partitions), int(members), int(session_ms), float(window)
group = f"bench-rebalance-{impl}-{strategy}-{time.time_ns()}"

from confluent_kafka import Producer
stop = threading.Event()
def produce():
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": 1})
    value = b"x" * 100
    next_at = time.monotonic()
    while not stop.is_set():
        for part in range(partitions):
            p.produce(topic, value, partition=part)
        p.poll(0)
        next_at += 0.010
        time.sleep(max(0, next_at - time.monotonic()))
    p.flush(5)
threading.Thread(target=produce, daemon=True).start()

lock = threading.Lock()
records = {}   # member -> {partition: [times]}
assigns = {}   # member -> [(time, set of partitions added or now held, eager: full set)]
procs = []
trace = open(os.environ["GROUP_BENCH_TRACE"], "w") if os.environ.get("GROUP_BENCH_TRACE") else None
def note(name, t, line):   # the group events of every member, relative to the joiner's start
    if trace:
        with lock: trace.write(f"{t - (t0 or t):8.3f} {name} {line.strip()}\n"); trace.flush()
t0 = None

def start_member(name):
    records[name] = {}
    assigns[name] = []
    if impl == "kgo":
        cmd = [kgo, "consume", "-b", bootstrap, "-t", topic, "-G", group, "-f", "%p %o\\n", "-v",
               "--session-timeout", f"{session_ms}ms", "--balancer", strategy]
    else:
        cmd = [sys.executable, rdmember, bootstrap, group, topic, strategy, str(session_ms), name]
    pr = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    procs.append(pr)
    def read_out():
        for line in pr.stdout:
            t = time.monotonic()
            if impl == "kgo":
                parts = line.split()
                if len(parts) == 2:
                    with lock: records[name].setdefault(int(parts[0]), []).append(t)
            else:
                ev = json.loads(line)
                with lock:
                    if ev["ev"] == "record": records[name].setdefault(ev["p"], []).append(t)
                    elif ev["ev"] == "assigned": assigns[name].append((t, set(ev["parts"])))
                if ev["ev"] != "record": note(name, t, line)
    def read_err():
        for line in pr.stderr:
            t = time.monotonic()
            if impl == "kgo" and line.startswith("kgo: group"): note(name, t, line)
            elif impl == "rdkafka": note(name, t, line)
            # kgo -v: "kgo: group assigned t/0,t/3"
            if impl == "kgo" and line.startswith("kgo: group assigned "):
                ps = {int(x) for x in re.findall(r"/(\d+)", line.split(" assigned ", 1)[1])}
                with lock: assigns[name].append((t, ps))
    threading.Thread(target=read_out, daemon=True).start()
    threading.Thread(target=read_err, daemon=True).start()

for i in range(members):
    start_member(f"m{i}")
# Wait until every partition has been flowing for 1 s (each delivered in the last 500 ms).
deadline = time.monotonic() + 60
steady_since = None
while time.monotonic() < deadline:
    time.sleep(0.05)
    now = time.monotonic()
    with lock:
        last = {}
        for m in records.values():
            for p, ts in m.items():
                last[p] = max(last.get(p, 0), ts[-1])
    if len(last) == partitions and all(now - t < 0.5 for t in last.values()):
        steady_since = steady_since or now
        if now - steady_since >= 1.0:
            break
    else:
        steady_since = None
else:
    sys.exit("group never reached a steady state")

t0 = time.monotonic()
start_member("joiner")
time.sleep(window)
for pr in procs:
    pr.send_signal(signal.SIGTERM)
    if pr.stdin: pr.stdin.close()
for pr in procs:
    try: pr.wait(15)
    except subprocess.TimeoutExpired: pr.kill()
stop.set()

with lock:
    refetch = {}
    reassigned = 0
    for p in range(partitions):
        owner = max((m for m in records if records[m].get(p)), key=lambda m: records[m][p][-1])
        held = [t for t, ps in assigns[owner] if p in ps]
        since = max([t0] + held)
        if held and held[-1] > t0: reassigned += 1
        later = [t for t in records[owner][p] if t >= since]
        if not later:
            sys.exit(f"partition {p}: its final owner {owner} delivered nothing after {since - t0:.3f}")
        refetch[p] = later[0] - t0
    # The new member's first assignment with partitions, and its first record.
    ja = [t for t, ps in assigns["joiner"] if ps]
    jr = [ts[0] for ts in records["joiner"].values() if ts]
print(f"REBALANCE impl={impl} strategy={strategy} refetch_s={max(refetch.values()):.3f} "
      f"joiner_assigned_s={(ja[0] - t0) if ja else -1:.3f} joiner_first_record_s={(min(jr) - t0) if jr else -1:.3f} "
      f"reassigned={reassigned} per_partition=" + ",".join(f"{refetch[p]:.2f}" for p in range(partitions)), flush=True)
