import FakeCluster
import KafkaStateMachines

/// What one run found.
package struct SimulationResult: Sendable {
    package var seed: UInt64
    package var hash: ActionHash
    /// Violations in the order found; empty means ok.
    package var violations: [String]
    /// The invariants this run checked.
    package var checked: [String]
    package var virtualNanoseconds: UInt64
    package var events: Int
    package var requests: Int
    package var succeeded: Int
    package var faults: Int
    /// Records the cluster acknowledged (each checked against the log).
    package var acked: Int
    /// Records the consumer workloads read, and the data losses (KIP-320) reported to them.
    package var consumed = 0
    package var dataLossReports: [DataLoss] = []
    /// One line per transactional producer instance: how its transactions ended.
    package var transactions: [String] = []
    /// Other summary lines from the workloads' end-of-run checks (e.g. how many records a
    /// producer without idempotence left in the log twice).
    package var notes: [String] = []
    package var ok: Bool { violations.isEmpty }
}

/// One run: the engine and the fake cluster joined by the simulated network, driven by a
/// scheduler that always steps to the earliest pending event (queue entries, then the
/// engine's deadline, then the cluster's, on a tie), over a safety phase with faults and a
/// liveness phase without, then a drain in which nothing new is issued.
package struct Simulation {
    enum Event {
        case dial(UInt64)
        case toBroker(UInt64, [UInt8])
        case clientClose(UInt64)
        case toClient(UInt64, [UInt8])
        case brokerClose(UInt64)
        case fault(Int)
        case wake(Int)
        case heal
        case txnWrite(Int)
    }

    package let scenario: Scenario
    /// The concrete fault list: scripted faults plus those drawn from the seed.
    package let faults: [Scenario.ScriptedFault]
    var now: UInt64 = 0
    var engine: ClientEngine
    /// Engines beside `engine` (engine index k is `others[k - 1]`): a transactional
    /// producer's second instance (`zombie at`), created when first fed. Their connection
    /// ids are told apart on the network by the engine index in the top 16 bits.
    var others: [ClientEngine?] = []
    var otherSeeds: [UInt64] = []
    var cluster: FakeCluster
    var queue = EventQueue<Event>()
    var net: SimNetwork
    var workloads: [any SimWorkload]
    /// Transactional writers straight into the cluster (`workload txn-write`).
    var writers: [TxnWriter] = []
    var ledger: RequestLedger
    var hash = ActionHash()
    var violations: Violations
    var acked: [AckedRecord] = []
    var nextPromise: UInt64 = 1
    var events = 0
    /// Which workload issued each promise (looked up only).
    var owner: [PromiseID: Int] = [:]
    var inLiveness = false
    var stopIssuing = false
    /// Brokers stopped or cut off by faults, healed when the liveness phase starts.
    var stopped: [Int32] = []
    var isolated: [Int32] = []
    /// The transactional ids watched by `txn-timeout`, and whether it has reported.
    var timedIds: [String] = []
    var overdueReported = false
    let addresses: [(host: String, port: Int, node: Int32)]
    /// KIP-219: until when (virtual ns) the engine has been told to leave each broker alone,
    /// from the throttled responses delivered to it; and how many it was told about.
    var throttledUntil: [Int32: UInt64] = [:]
    var throttledDelivered = 0
    /// Set by `record()`: every engine input goes into `recording` as the flight recorder
    /// would write it, so a simulated run can be replayed like a production recording.
    var tap: RecordingTap?
    var recording: [UInt8] = []
    /// The partitions' logs as read back at the end of the run (`readLog`), looked up only.
    var logCache: [TopicPartition: Result<PartitionRecords, LogChecker.ReadError>] = [:]
    /// Summary lines the workloads' log checks left (SimulationResult.notes).
    var notes: [String] = []
    let engineConfig: EngineConfig
    let engineSeed: UInt64
    /// When set (`kgo sim run` with KGO_SIM_LOG), what happened: faults, and every engine's
    /// delivery reports and producer notices, with the engine's index.
    package var trace: SimTrace? = nil
    /// When set (`kgo sim run --timeline`), the run drawn on its time axis (SimTimeline).
    package var timeline: SimTimeline? = nil

    /// Time allowed after the liveness phase for outstanding requests to finish.
    package static let drain: UInt64 = 60_000_000_000
    /// FakeClusterConfig.transactionCoordinatorLoadMs in every simulation (group ones too).
    package static let transactionCoordinatorLoadMs: Int64 = 50

    package init(_ s: Scenario, seed: UInt64? = nil, faults override: [Scenario.ScriptedFault]? = nil) {
        var sc = s
        if let seed { sc.seed = seed }
        scenario = sc
        // Independent streams, so that one part drawing more numbers does not shift another.
        var master = SeededGenerator(seed: sc.seed)
        var faultRng = master.fork()
        let netRng = master.fork()
        let engineSeed = master.next()
        let clusterSeed = master.next()

        var all = sc.faults
        if let r = sc.randomFaults { all += FaultSchedule.random(r, scenario: sc, rng: &faultRng) }
        // Stable sort by time: equal times keep file order.
        faults = override ?? all.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)

        let brokers: [FakeClusterConfig.Broker] = (0 ..< sc.brokers).map { i in
            FakeClusterConfig.Broker(nodeId: Int32(i + 1), host: "broker\(i + 1)", port: 9092,
                                     rack: sc.racks.isEmpty ? nil : sc.racks[i % sc.racks.count])
        }
        addresses = brokers.map { ($0.host, Int($0.port), $0.nodeId) }
        var users: [FakeClusterConfig.User] = []
        var engineConfig = EngineConfig(seeds: brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) })
        if let sasl = sc.sasl {
            users.append(.init(mechanism: sasl.sha512 ? .scramSha512 : .scramSha256, name: sasl.user, password: sasl.password))
            users.append(.init(mechanism: .plain, name: LogChecker.user, password: LogChecker.user))
            engineConfig.sasl = .scram(sasl.sha512 ? .sha512 : .sha256, username: sasl.user, password: sasl.password)
        }
        let topics = sc.topics.map { FakeClusterConfig.Topic(name: $0.name, partitions: $0.partitions, replicationFactor: $0.replicationFactor) }
        var clusterConfig = FakeClusterConfig(brokers: brokers, seed: clusterSeed, users: users, autoCreateTopics: false,
                                              topics: topics, saslSessionLifetimeMs: sc.sasl?.sessionMs ?? 0)
        // A broker taking a transactional id over loads its transaction log this long.
        clusterConfig.transactionCoordinatorLoadMs = Self.transactionCoordinatorLoadMs
        clusterConfig.transactionVersion = sc.transactionVersion
        // Transaction version 2 needs the versions of a 4.0 broker (Produce v12, TxnOffsetCommit v5).
        if sc.transactionVersion >= 2 { clusterConfig.release = .v4_0 }
        if let r = sc.release {
            clusterConfig.release = r
            // Idempotence left at its default, as KafkaIO leaves it: a cluster that cannot
            // do it turns it off instead of failing the producer.
            engineConfig.producer.idempotenceFallback = true
        }
        cluster = FakeCluster(clusterConfig)
        for w in sc.workloads {
            guard case .consume(_, let rc, let sessions) = w else { continue }
            engineConfig.fetcher.isolation = rc ? .readCommitted : .readUncommitted
            engineConfig.fetcher.fetchSessions = sessions
            engineConfig.fetcher.maxWait = .milliseconds(100)
            engineConfig.fetcher.validateEpochs = !sc.disableEpochValidation
            // With racks, the consumer sits in the first one: leaders elsewhere point it at
            // a replica there (KIP-392).
            engineConfig.fetcher.rack = sc.racks.first
            engineConfig.fetcher.preferredReplicaRecheck = .seconds(2)
        }
        // The transactional producer: engine 0 is its first instance; a zombie is engine 1.
        var txnSeeds = SeededGenerator(seed: clusterSeed ^ 0x7478_6e70)
        var txnWorkloads: [TxnProducerWorkload] = []
        for w in sc.workloads {
            guard case .txnProducer(let spec) = w else { continue }
            engineConfig.producer.transactionalId = spec.transactionalId
            if !timedIds.contains(spec.transactionalId) { timedIds.append(spec.transactionalId) }
            engineConfig.producer.transactionTimeout = Interval(nanoseconds: spec.timeout)
            txnWorkloads.append(TxnProducerWorkload(spec: spec, instance: 0, livenessBound: sc.livenessBound, seed: txnSeeds.next()))
            if spec.zombieAt != nil {
                txnWorkloads.append(TxnProducerWorkload(spec: spec, instance: 1, livenessBound: sc.livenessBound, seed: txnSeeds.next()))
                others.append(nil)
                otherSeeds.append(engineSeed ^ 0x7a6f_6d62_6965)
            }
        }
        engine = ClientEngine(config: engineConfig, seed: engineSeed)
        self.engineConfig = engineConfig
        self.engineSeed = engineSeed
        net = SimNetwork(latencyMin: sc.latencyMin, latencyMax: sc.latencyMax, rng: netRng)
        ledger = RequestLedger(livenessBound: sc.livenessBound)
        violations = Violations(enabled: sc.invariants)
        func parts(_ t: String) -> Int32 { sc.topics.first { $0.name == t }?.partitions ?? 1 }
        var writerSeed = SeededGenerator(seed: clusterSeed ^ 0x7478_6e77)
        for w in sc.workloads {
            if case .txnWrite(let t, let e, let n) = w {
                writers.append(TxnWriter(topic: t, partitions: parts(t), every: e, producers: n, seed: writerSeed.next()))
            }
        }
        workloads = sc.workloads.compactMap { w -> (any SimWorkload)? in
            switch w {
            case .produce(let t, let e, let r): return ProduceWorkload(topic: t, partitions: parts(t), every: e, records: r)
            case .listOffsets(let t, let e): return ListOffsetsWorkload(topic: t, partitions: parts(t), every: e)
            case .commit(let g, let t, let e): return CommitWorkload(group: g, topic: t, every: e)
            case .adminGroups(let g, let t, let e): return AdminGroupsWorkload(groups: g, topic: t, every: e)
            case .metadata(let e): return MetadataWorkload(every: e)
            case .consume(let t, let rc, _):
                return ConsumerWorkload(topic: t, partitions: parts(t), isolation: rc ? .readCommitted : .readUncommitted)
            case .txnWrite, .txnProducer: return nil
            case .producer(let t, let n, let e, let b):
                return ProducerWorkload(topic: t, records: n, every: e, batch: b, expectIdempotentEnd: Self.upgradedToIdempotence(sc))
            }
        } + txnWorkloads
    }

    /// The scenario starts on a release without idempotence (`release` before 0.11) and its
    /// safety phase upgrades every broker to one with it: the producer must end idempotent.
    static func upgradedToIdempotence(_ s: Scenario) -> Bool {
        guard let start = s.release, start < KafkaRelease(0, 11) else { return false }
        var final: [Int32: KafkaRelease] = [:]
        for f in s.faults where f.at < s.safety {
            if case .upgradeBroker(let b, let r) = f.fault { final[b] = r }
        }
        return (1 ... max(1, s.brokers)).allSatisfy { b in final[Int32(b)].map { $0 >= KafkaRelease(0, 11) } ?? false }
    }

    /// Runs the scenario to the end and checks every invariant.
    package mutating func run() -> SimulationResult {
        for i in workloads.indices { queue.push(at: UInt64(i) * 1_000_000, .wake(i)) }
        for i in writers.indices { queue.push(at: 2_000_000 + UInt64(i) * 1_000_000, .txnWrite(i)) }
        for (i, f) in faults.enumerated() where f.at < scenario.safety { queue.push(at: f.at, .fault(i)) }
        queue.push(at: scenario.safety, .heal)
        timeline?.leadership(of: cluster, at: now)
        let stop = scenario.end + Self.drain
        var sameInstantSteps = 0
        while true {
            let q = queue.nextTime
            let (ei, e) = earliestEngineDeadline()
            let c = cluster.nextDeadline.map { max($0.nanoseconds, now) }
            guard let t = [q, e, c].compactMap({ $0 }).min(), t <= stop else { break }
            if t >= scenario.end { stopIssuing = true }
            // A machine whose deadline does not move after a tick would spin here forever.
            sameInstantSteps = t == now ? sameInstantSteps + 1 : 0
            if sameInstantSteps > 100_000 {
                violations.add("liveness", "no progress: 100000 steps at one instant", at: now)
                break
            }
            now = t
            events += 1
            if !overdueReported { checkOverdue() }
            if q == t, let (_, ev) = queue.pop() {
                handle(ev)
            } else if e == t {
                feed(.tick, engine: ei)
                drainEngine(ei)
            } else {
                handleCluster(cluster.tick(now: Instant(nanoseconds: now)))
            }
            if let timeline { timeline.leadership(of: cluster, at: now) }
            if stopIssuing && ledger.outstanding.isEmpty && queue.isEmpty && consumersCaughtUp() && engine.producerBufferedRecords == 0
                && txnProducersSettled() { break }
        }
        ledger.finish(at: now, into: &violations)
        // A quota counts as a throttle fault: a scenario setting one means to be throttled by it.
        if faults.contains(where: { f in
            switch f.fault {
            case .throttle, .quota: return f.at < scenario.safety
            default: return false
            }
        }), throttledDelivered == 0 {
            violations.add("throttle", "throttle or quota faults fired but no throttled response reached the client", at: now)
        }
        var ctx = context()
        for w in workloads { w.finish(&ctx) }
        violations = ctx.violations
        var found = violations
        LogChecker.check(acked, now: now, into: &found) { topic, partition in readLog(topic, partition) }
        violations = found
        checkConsumers()
        checkWorkloadLogs()
        checkTxnProducers()
        let checked = Invariant.all.filter { $0 != "determinism" && violations.checks($0) }
        var result = SimulationResult(seed: scenario.seed, hash: hash, violations: violations.list, checked: checked,
                                      virtualNanoseconds: now, events: events, requests: ledger.issuedCount,
                                      succeeded: ledger.succeeded, faults: faults.filter { $0.at < scenario.safety }.count, acked: acked.count)
        for case let t as TxnProducerWorkload in workloads { result.transactions.append(t.summary) }
        result.notes = notes
        for case let c as ConsumerWorkload in workloads {
            result.consumed += c.records
            result.dataLossReports += c.losses
        }
        if let timeline {
            if let first = violations.list.first { timeline.violated(at: violations.firstAt ?? now, first) }
            timeline.close(at: now)
        }
        return result
    }

    // MARK: events

    mutating func handle(_ ev: Event) {
        switch ev {
        case .dial(let c):
            guard let link = net.links[c], !link.closedByEngine else { return }
            let (ei, id) = Self.split(c)
            if cluster.isReachable(broker: link.broker), let f = cluster.connect(broker: link.broker) {
                net.attach(c, fake: f)
                timeline?.connected(link: c, client: "client \(ei)", broker: "broker \(link.broker)", at: now)
                feed(.connectionOpened(id), engine: ei)
            } else {
                net.forget(c)
                timeline?.refused(client: "client \(ei)", broker: "broker \(link.broker)", at: now)
                feed(.connectionFailed(id, reason: .refused("connection refused")), engine: ei)
            }
            drainEngine(ei)
        case .toBroker(let c, let bytes):
            guard let link = net.links[c], !link.dead, let f = link.fake else { return }
            if net.carries(c, bytes.count, now: now) { return resetLink(c) }
            if bytes.count >= 6 { ledger.delivered(ApiKey(Int16(bytes[4]) << 8 | Int16(bytes[5])), at: now) }
            handleCluster(cluster.receive(f, bytes, now: Instant(nanoseconds: now)))
        case .clientClose(let c):
            if let f = net.links[c]?.fake { cluster.disconnect(f) }
            net.forget(c)
            timeline?.disconnected(link: c, at: now)
        case .toClient(let c, let bytes):
            guard let link = net.links[c], !link.dead, !link.closedByEngine else { return }
            if net.carries(c, bytes.count, now: now) { return resetLink(c) }
            noteThrottle(link, bytes)
            timeline?.read(bytes, link: c, at: now)
            let (ei, id) = Self.split(c)
            feed(.bytesReceived(id, bytes), engine: ei)
            drainEngine(ei)
        case .brokerClose(let c):
            guard let link = net.links[c] else { return }
            let tellEngine = !link.closedByEngine
            net.forget(c)
            timeline?.disconnected(link: c, at: now)
            if tellEngine {
                let (ei, id) = Self.split(c)
                feed(.connectionClosed(id), engine: ei)
                drainEngine(ei)
            }
        case .fault(let i):
            if trace != nil { note("fault \(faults[i].fault)") }
            timeline?.fault(at: now, "\(faults[i].fault)")
            apply(faults[i].fault)
            timeline?.brokers(addresses.map(\.node), stopped: stopped, isolated: isolated, at: now)
        case .wake(let i):
            guard !stopIssuing || workloads[i].wakesWhileDraining else { return }
            var ctx = lendContext()
            let next = workloads[i].wake(&ctx)
            absorb(&ctx, from: i)
            if let next { queue.push(at: max(next, now + 1), .wake(i)) }
        case .txnWrite(let i):
            guard !stopIssuing else {
                writers[i].finish(cluster: &cluster, now: now)
                return
            }
            let next = writers[i].step(cluster: &cluster, now: now)
            queue.push(at: max(next, now + 1), .txnWrite(i))
        case .heal:
            inLiveness = true
            // Errors, delays and drops armed late in the safety phase must not fire now.
            cluster.clearArmedFaults()
            for b in stopped { handleCluster(cluster.restartBroker(b, now: Instant(nanoseconds: now))) }
            for b in isolated { handleCluster(cluster.setIsolated(b, false, now: Instant(nanoseconds: now))) }
            stopped = []
            isolated = []
            timeline?.fault(at: now, "heal: every broker restarted and reachable")
            timeline?.brokers(addresses.map(\.node), stopped: stopped, isolated: isolated, at: now)
        }
    }

    /// `txn-timeout`, before the events of each instant: reported once per run.
    mutating func checkOverdue() {
        for id in timedIds {
            guard let m = TxnChecker.overdue(cluster.describeTransaction(id), now: now) else { continue }
            violations.add("txn-timeout", m, at: now)
            overdueReported = true
            return
        }
    }

    mutating func apply(_ fault: Fault) {
        var f = fault
        // Faults naming a coordinator resolve to its broker now, so the heal restarts it.
        switch fault {
        case .stopCoordinator(let g):
            guard let b = cluster.coordinator(g, .group) else { return }
            f = .stopBroker(b)
        case .stopTxnCoordinator(let id):
            guard let b = cluster.coordinator(id, .transaction) else { return }
            f = .stopBroker(b)
        case .restartBrokers:
            for b in stopped { apply(.restartBroker(b)) }
            return
        default: break
        }
        if trace != nil, f != fault { note("fault \(fault): \(f)") }
        switch f {
        case .stopBroker(let b), .upgradeBroker(let b, _): if !stopped.contains(b) { stopped.append(b) }
        case .restartBroker(let b): stopped.removeAll { $0 == b }
        case .isolateBroker(let b): if !isolated.contains(b) { isolated.append(b) }
        case .healBroker(let b): isolated.removeAll { $0 == b }
        case .resetConnections(let b):
            for c in net.openOrder where net.links[c]?.broker == b { resetLink(c) }
        case .cutAfterBytes(let b, let lo, let hi, let w):
            net.startCuts(b, .init(min: lo, max: hi, until: now + w))
        default: break
        }
        handleCluster(f.apply(to: &cluster, now: Instant(nanoseconds: now)))
    }

    /// RST: in-flight bytes are lost both ways; each side learns after a latency.
    mutating func resetLink(_ c: UInt64) {
        if let fake = net.links[c]?.fake { cluster.disconnect(fake) }
        net.links[c]?.dead = true
        queue.push(at: now + net.latency(), .brokerClose(c))
    }

    mutating func handleCluster(_ outputs: [FakeOutput]) {
        for o in outputs {
            switch o {
            case .send(let f, let bytes):
                guard let c = net.byFake[f.value] else { continue }
                queue.push(at: net.deliveryToClient(c, now: now), .toClient(c, bytes))
            case .close(let f, _):
                guard let c = net.byFake[f.value] else { continue }
                queue.push(at: net.deliveryToClient(c, now: now), .brokerClose(c))
            }
        }
    }

    mutating func drainEngine(_ ei: Int = 0) {
        while let a = pollAction(ei) {
            hash.record(a, at: now)
            if ei == 0 { tap?.observe(a) }
            switch a {
            case .open(let c, _, let host, let port, _):
                guard let node = addresses.first(where: { $0.host == host && $0.port == port })?.node else {
                    feed(.connectionFailed(c, reason: .dns("unknown host \(host)")), engine: ei)
                    continue
                }
                let k = Self.link(ei, c)
                net.links[k] = SimNetwork.Link(broker: node)
                queue.push(at: now + net.latency(), .dial(k))
            case .write(let c, let frame):
                let bytes = frame.bytes
                let k = Self.link(ei, c)
                guard let link = net.links[k] else { continue }
                checkThrottle(link, bytes)
                timeline?.wrote(bytes, link: k, client: "client \(ei)", broker: "broker \(link.broker)", cluster: cluster, at: now)
                queue.push(at: net.deliveryToBroker(k, now: now), .toBroker(k, bytes))
            case .fetchOAuthToken:
                continue   // the simulation configures no SASL
            case .close(let c):
                let k = Self.link(ei, c)
                guard net.links[k] != nil else { continue }
                net.links[k]!.closedByEngine = true
                queue.push(at: net.deliveryToBroker(k, now: now), .clientClose(k))
            case .delivery(let report):
                if trace != nil { note("engine \(ei): \(report)") }
                for i in workloads.indices {
                    var ctx = lendContext()
                    workloads[i].delivered(report, &ctx)
                    absorb(&ctx, from: i)
                }
            case .producer(let notice):
                if trace != nil { note("engine \(ei): \(notice)") }
                for i in workloads.indices {
                    var ctx = lendContext()
                    workloads[i].producerNotice(notice, &ctx)
                    absorb(&ctx, from: i)
                }
            case .complete(let p, let r):
                let ok: Bool
                let err: String
                switch r {
                case .success: ok = true; err = ""
                case .failure(let e): ok = false; err = e.description
                }
                ledger.completed(p, success: ok, error: err, at: now, into: &violations)
                if let i = owner.removeValue(forKey: p) {
                    var ctx = lendContext()
                    workloads[i].completed(p, r, &ctx)
                    absorb(&ctx, from: i)
                }
            case .fetched(let batch):
                fetched(batch)
            case .group(let event):
                for i in workloads.indices {
                    var ctx = lendContext()
                    workloads[i].groupEvent(event, &ctx)
                    absorb(&ctx, from: i)
                }
            }
        }
    }

    /// A read-only look at the run for end-of-run checks (the acked list stays here too).
    func context() -> WorkloadContext {
        var ctx = WorkloadContext(now: now, metadata: engine.metadata, inLiveness: inLiveness, acked: acked,
                                  violations: violations, nextPromise: nextPromise)
        ctx.draining = stopIssuing
        return ctx
    }

    /// A context for a workload callback. The acked list is moved into it, not shared, so
    /// the workload's appends do not copy the whole list (100,000 records at the producer
    /// sweep's size); `absorb` moves it back.
    mutating func lendContext() -> WorkloadContext {
        let ctx = context()
        acked = []
        return ctx
    }

    /// Takes back what a workload did with its context (see `lendContext`) and issues its
    /// requests.
    mutating func absorb(_ ctx: inout WorkloadContext, from i: Int) {
        acked = ctx.acked
        ctx.acked = []
        violations = ctx.violations
        nextPromise = ctx.nextPromise
        let ei = workloads[i].engineIndex
        for r in ctx.requests {
            owner[r.promise] = i
            ledger.issued(r.promise, type(of: r.request).apiKey, at: now, liveness: inLiveness)
            feed(.request(UserRequest(r.request, to: r.target, pin: r.pin, promise: r.promise)), engine: ei)
        }
        if !ctx.produced.isEmpty {
            feed(.produce(ctx.produced), engine: ei)
        }
        for f in ctx.flushes {
            feed(.flush(f), engine: ei)
        }
        for input in ctx.engineInputs {
            feed(input, engine: ei)
        }
        if let t = ctx.wakeAt { queue.push(at: max(t, now + 1), .wake(i)) }
        if !ctx.requests.isEmpty || !ctx.produced.isEmpty || !ctx.flushes.isEmpty || !ctx.engineInputs.isEmpty { drainEngine(ei) }
        applyConsumerInputs(ctx.consumer)
    }

    /// Lets each workload check the partitions' logs, read once per partition.
    mutating func checkWorkloadLogs() {
        var ctx = context()
        for w in workloads {
            w.checkLogs({ topic, partition in try? readLog(topic, partition).get() }, &ctx)
        }
        violations = ctx.violations
        notes += ctx.notes
    }

    /// A partition's log read back from its leader at the end of the run, read once and
    /// shared by every checker (the logs no longer change then).
    mutating func readLog(_ topic: String, _ partition: Int32) -> Result<PartitionRecords, LogChecker.ReadError> {
        let tp = TopicPartition(topic, partition)
        if let hit = logCache[tp] { return hit }
        let log = LogChecker.read(topic, partition, cluster: &cluster, sasl: scenario.sasl != nil, now: now)
        logCache[tp] = log
        return log
    }
}

// MARK: - KIP-219 throttling check

extension Simulation {
    /// Each FakeOutput.send is one response frame: its correlation id says whether the
    /// cluster throttled it, and the engine learns the throttle when the bytes arrive.
    mutating func noteThrottle(_ link: SimNetwork.Link, _ bytes: [UInt8]) {
        guard bytes.count >= 8, let fake = link.fake else { return }
        let correlationId = Int32(bitPattern: UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7]))
        guard let ms = cluster.throttledResponse(fake, correlationId: correlationId) else { return }
        throttledDelivered += 1
        // The engine honours at most maxHonouredThrottle of what it is told.
        let until = now + min(UInt64(ms) * 1_000_000, engineConfig.maxHonouredThrottle.nanoseconds)
        throttledUntil[link.broker] = max(throttledUntil[link.broker] ?? until, until)
    }

    /// A request written to a broker that throttles us breaks KIP-219. The handshake of a
    /// new connection (ApiVersions, SASL) is exempt: it is what makes the connection usable.
    mutating func checkThrottle(_ link: SimNetwork.Link, _ bytes: [UInt8]) {
        guard let until = throttledUntil[link.broker], now < until, bytes.count >= 6 else { return }
        let key = ApiKey(Int16(bitPattern: UInt16(bytes[4]) << 8 | UInt16(bytes[5])))
        if key == .apiVersions || key == .saslHandshake || key == .saslAuthenticate { return }
        violations.add("throttle", "\(key.name) written to broker \(link.broker) \(DurationText.format((until - now) / 1_000_000 * 1_000_000)) before its throttle lifts", at: now)
    }
}

extension Simulation {
    /// Runs the scenario while recording every engine input in the flight recorder's format
    /// (one segment); `FlightRecording(segments: [bytes])` and `RecordingReplay` read it back.
    package mutating func record() -> (SimulationResult, [UInt8]) {
        tap = RecordingTap()
        recording = RecordingHeader(recordingId: scenario.seed, segmentIndex: 1,
                                    start: RecordingStart(seed: engineSeed, libraryVersion: "simulation",
                                                          config: RecordedConfig.encode(engineConfig, includeSecrets: true))).encoded()
        let result = run()
        recording += tap!.endEntry(now: Instant(nanoseconds: now))
        return (result, recording)
    }

    /// Gives the engine one input at the current virtual instant, recording it first when
    /// `record()` runs (a request no version carries faithfully is a violation there).
    mutating func feed(_ input: EngineInput, engine ei: Int = 0) {
        let at = Instant(nanoseconds: now)
        if ei > 0 {
            if others[ei - 1] == nil {
                others[ei - 1] = ClientEngine(config: engineConfig, seed: otherSeeds[ei - 1])
            }
            others[ei - 1]!.handle(input, now: at)
            return
        }
        if let tap {
            if let entry = tap.entry(.input(input), now: at) {
                recording += entry
            } else {
                violations.add("recording", "an input has no faithful encoding: \(input)", at: now)
            }
        }
        engine.handle(input, now: at)
    }
}

// MARK: - further engines

extension Simulation {
    /// The network's key for engine `ei`'s connection `c`: engine 0's keys are its ids.
    static func link(_ ei: Int, _ c: ConnectionID) -> UInt64 { UInt64(ei) << 48 | c.rawValue }

    static func split(_ key: UInt64) -> (Int, ConnectionID) { (Int(key >> 48), ConnectionID(key & (1 << 48 - 1))) }

    private static func deadline(of e: inout ClientEngine?) -> Instant? { e?.nextDeadline() }

    mutating func pollAction(_ ei: Int) -> Action? {
        ei == 0 ? engine.pollAction() : others[ei - 1]?.pollAction()
    }

    /// The engine whose deadline comes first (the lowest index on a tie), and that deadline.
    mutating func earliestEngineDeadline() -> (Int, UInt64?) {
        var best = (0, engine.nextDeadline().map { max($0.nanoseconds, now) })
        // Read through `inout`, in place: `for e in others` copies each whole engine, at
        // every step.
        for k in others.indices {
            guard let d = Self.deadline(of: &others[k]).map({ max($0.nanoseconds, now) }) else { continue }
            if best.1 == nil || d < best.1! { best = (k + 1, d) }
        }
        return best
    }
}

/// What a traced run saw (kept by reference, so noting a line never touches the run's state).
package final class SimTrace {
    package private(set) var lines: [String] = []
    package init() {}
    func append(_ line: String) { lines.append(line) }
}

extension Simulation {
    func note(_ line: String) {
        trace?.append("\(DurationText.format(now / 1_000 * 1_000)) \(line)")
    }
}
