import FakeCluster
import KafkaProtocol

/// The scenario line format (scenarios/README.md): one directive per line, `#` comments,
/// words separated by spaces. Errors name the line.
package struct ScenarioError: Error, CustomStringConvertible {
    package var line: Int
    package var message: String
    package var description: String { "line \(line): \(message)" }
}

extension Scenario {
    package static func parse(_ text: String, name: String = "scenario") throws(ScenarioError) -> Scenario {
        var s = Scenario()
        s.name = name
        var lineNo = 0
        // Split on unicode scalars, not Characters: "\r\n" or a space followed by a combining
        // mark is one Character, so a word ending in "\r" would swallow the next line once
        // rendered (found by FuzzScenario).
        for raw in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? raw[raw.startIndex ..< raw.startIndex]
            let w = line.split(separator: " ", omittingEmptySubsequences: true).map { String(String.UnicodeScalarView($0)) }
            guard !w.isEmpty else { continue }
            var p = Words(words: w, line: lineNo)
            try s.apply(&p)
        }
        return s
    }

    private mutating func apply(_ p: inout Words) throws(ScenarioError) {
        let verb = try p.word("directive")
        switch verb {
        case "seed": seed = try p.uint("seed")
        case "brokers":
            brokers = try p.int("broker count")
            if p.accept("racks") { racks = try p.word("racks").split(separator: ",").map(String.init) }
        case "topic":
            let name = try p.word("topic name")
            try p.expect("partitions")
            let n: Int32 = try p.int("partitions")
            var rf: Int16 = -1
            if p.accept("rf") { rf = try p.int("rf") }
            topics.append(Topic(name: name, partitions: n, replicationFactor: rf))
        case "sasl":
            let mech = try p.word("mechanism")
            guard mech == "scram-sha-256" || mech == "scram-sha-512" else { throw p.error("unknown SASL mechanism \(mech)") }
            try p.expect("user"); let user = try p.word("user")
            try p.expect("password"); let pw = try p.word("password")
            var session: Int64 = 0
            if p.accept("session") { session = Int64(try p.duration("session") / 1_000_000) }
            sasl = Sasl(sha512: mech == "scram-sha-512", user: user, password: pw, sessionMs: session)
        case "transaction-version":
            let v = try p.uint("transaction version")
            guard v <= 2 else { throw p.error("transaction-version is 0, 1 or 2") }
            transactionVersion = Int16(v)
        case "release":
            let text = try p.word("release")
            guard let r = KafkaRelease.named(text) else { throw p.error("unknown Kafka release \(text) (e.g. 0.10.2, 2.8, 3.7)") }
            release = r
        case "latency":
            let range = try p.word("latency range").split(separator: "..").map(String.init)
            guard range.count == 2, let lo = DurationText.parse(range[0]), let hi = DurationText.parse(range[1]), lo <= hi, lo > 0 else {
                throw p.error("latency wants MIN..MAX, e.g. 1ms..5ms, MIN > 0")
            }
            latencyMin = lo; latencyMax = hi
        case "workload": workloads.append(try Self.workload(&p))
        case "at":
            let t = try p.duration("time")
            faults.append(ScriptedFault(at: t, fault: try Self.fault(&p)))
        case "faults":
            try p.expect("random"); try p.expect("count")
            let n: Int = try p.int("count")
            try p.expect("until")
            randomFaults = RandomFaults(count: n, until: try p.duration("until"))
            if p.accept("kinds") {
                let kinds = try p.word("kinds").split(separator: ",").map(String.init)
                for k in kinds where !FaultSchedule.kinds.contains(k) {
                    throw p.error("unknown fault kind \(k) (known: \(FaultSchedule.kinds.joined(separator: ", ")))")
                }
                randomFaults!.kinds = kinds
            }
        case "safety": safety = try p.duration("safety")
        case "liveness":
            liveness = try p.duration("liveness")
            if p.accept("bound") { livenessBound = try p.duration("bound") }
        case "invariant":
            let name = try p.word("invariant")
            guard name == "all" || Invariant.all.contains(name) else {
                throw p.error("unknown invariant \(name) (known: \(Invariant.all.joined(separator: ", ")))")
            }
            if name != "all" { invariants.append(name) }
        default: throw p.error("unknown directive \(verb)")
        }
        try p.end()
    }

    private static func workload(_ p: inout Words) throws(ScenarioError) -> WorkloadSpec {
        let kind = try p.word("workload kind")
        switch kind {
        case "produce":
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("every"); let every = try p.duration("every")
            var records = 1
            if p.accept("records") { records = try p.int("records") }
            return .produce(topic: t, every: max(every, 1), records: max(records, 1))
        case "list-offsets":
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("every")
            return .listOffsets(topic: t, every: max(try p.duration("every"), 1))
        case "commit":
            try p.expect("group"); let g = try p.word("group")
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("every")
            return .commit(group: g, topic: t, every: max(try p.duration("every"), 1))
        case "admin-groups":
            let groups = try p.word("groups").split(separator: ",").map(String.init)
            guard !groups.isEmpty else { throw p.error("admin-groups wants one or more groups, e.g. g1,g2") }
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("every")
            return .adminGroups(groups: groups, topic: t, every: max(try p.duration("every"), 1))
        case "metadata":
            try p.expect("every")
            return .metadata(every: max(try p.duration("every"), 1))
        case "consume":
            try p.expect("topic"); let t = try p.word("topic")
            var rc = false, sessions = true
            while true {
                if p.accept("read-committed") { rc = true } else if p.accept("no-sessions") { sessions = false } else { break }
            }
            return .consume(topic: t, readCommitted: rc, sessions: sessions)
        case "txn-write":
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("every"); let every = try p.duration("every")
            var producers = 2
            if p.accept("producers") { producers = try p.int("producers") }
            return .txnWrite(topic: t, every: max(every, 1), producers: max(producers, 1))
        case "producer":
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("records"); let n: Int = try p.int("records")
            try p.expect("every"); let every = try p.duration("every")
            var batch = 1
            if p.accept("batch") { batch = try p.int("batch") }
            return .producer(topic: t, records: max(n, 1), every: max(every, 1), batch: max(batch, 1))
        case "txn-producer":
            try p.expect("topic"); let t = try p.word("topic")
            try p.expect("transactions"); let n: Int = try p.int("transactions")
            try p.expect("records"); let r: Int = try p.int("records")
            try p.expect("every"); let every = try p.duration("every")
            var spec = TxnProducerSpec(topic: t, transactions: max(n, 1), records: max(r, 1), every: max(every, 1))
            while true {
                if p.accept("abort-ratio") {
                    let w = try p.word("abort ratio")
                    guard let x = Double(w), x >= 0, x <= 1 else { throw p.error("abort-ratio wants a number in 0...1, not \(w)") }
                    spec.abortRatio = x
                    spec.abortEvery = nil
                } else if p.accept("abort-every") {
                    let k: Int = try p.int("abort every")
                    spec.abortEvery = max(1, k)
                } else if p.accept("timeout") {
                    spec.timeout = max(try p.duration("timeout"), 1_000_000)
                } else if p.accept("zombie") {
                    try p.expect("at")
                    spec.zombieAt = try p.duration("zombie time")
                } else { break }
            }
            return .txnProducer(spec)
        default: throw p.error("unknown workload \(kind)")
        }
    }

    static func fault(_ p: inout Words) throws(ScenarioError) -> Fault {
        let kind = try p.word("fault")
        func broker(_ p: inout Words) throws(ScenarioError) -> Int32? {
            p.accept("broker") ? try p.int("broker") : nil
        }
        switch kind {
        case "move-leader":
            let tp = try p.word("topic/partition").split(separator: "/")
            guard tp.count == 2, let part = Int32(tp[1]) else { throw p.error("move-leader wants TOPIC/PARTITION") }
            let to: Int32? = p.accept("to") ? try p.int("broker") : nil
            return .moveLeader(topic: String(tp[0]), partition: part, to: to)
        case "stop-broker": return .stopBroker(try p.int("broker"))
        case "restart-broker": return .restartBroker(try p.int("broker"))
        case "isolate-broker": return .isolateBroker(try p.int("broker"))
        case "heal-broker": return .healBroker(try p.int("broker"))
        case "reset-connections": return .resetConnections(try p.int("broker"))
        case "cut-after-bytes":
            let b: Int32 = try p.int("broker")
            let range = try p.word("byte range").split(separator: "..").map(String.init)
            guard range.count == 2, let lo = ByteText.parse(range[0]), let hi = ByteText.parse(range[1]), lo <= hi, lo > 0 else {
                throw p.error("cut-after-bytes wants MIN..MAX bytes, e.g. 30KB..1.5MB, MIN > 0")
            }
            try p.expect("for")
            return .cutAfterBytes(broker: b, min: lo, max: hi, window: try p.duration("window"))
        case "move-txn-coordinator":
            let id = try p.word("transactional id"); try p.expect("to")
            return .moveTxnCoordinator(transactionalId: id, to: try p.int("broker"))
        case "move-coordinator":
            let g = try p.word("group"); try p.expect("to")
            return .moveCoordinator(group: g, to: try p.int("broker"))
        case "inject-error":
            let api = try p.word("api"); let e = try p.word("error")
            guard ApiNames.key(api) != nil else { throw p.error("unknown API \(api)") }
            guard ApiNames.error(e) != nil else { throw p.error("unknown error \(e)") }
            try p.expect("count"); let n: Int = try p.int("count")
            return .injectError(api: api, error: e, count: n, broker: try broker(&p))
        case "delay":
            let api = try p.word("api")
            guard ApiNames.key(api) != nil else { throw p.error("unknown API \(api)") }
            let ms = Int64(try p.duration("delay") / 1_000_000)
            try p.expect("count"); let n: Int = try p.int("count")
            return .delay(api: api, ms: ms, count: n, broker: try broker(&p))
        case "drop-connection":
            let api = try p.word("api")
            guard ApiNames.key(api) != nil else { throw p.error("unknown API \(api)") }
            let when = try p.word("before|after")
            guard when == "before" || when == "after" else { throw p.error("drop-connection wants before or after") }
            try p.expect("count"); let n: Int = try p.int("count")
            return .dropConnection(api: api, afterHandling: when == "after", count: n, broker: try broker(&p))
        case "throttle":
            let api = try p.word("api")
            guard api == "all" || ApiNames.key(api) != nil else { throw p.error("unknown API \(api)") }
            let ms = try p.duration("throttle") / 1_000_000
            guard ms >= 1, ms <= UInt64(Int32.max) else { throw p.error("throttle wants 1ms or more") }
            var count: Int?
            var window: UInt64?
            if p.accept("count") { count = try p.int("count") } else {
                try p.expect("for")
                window = try p.duration("window")
            }
            return .throttle(api: api == "all" ? nil : api, ms: Int32(ms), count: count, window: window, broker: try broker(&p))
        case "quota":
            let key = try p.word("quota key")
            guard let rate = Double(try p.word("rate")), rate > 0, rate.isFinite else { throw p.error("quota wants a positive rate") }
            var user: String??, client: String??
            if p.accept("user") { let n = try p.word("user"); user = .some(n == "default" ? nil : n) }
            if p.accept("client-id") { let n = try p.word("client-id"); client = .some(n == "default" ? nil : n) }
            guard user != nil || client != nil else { throw p.error("quota wants user NAME|default and/or client-id NAME|default") }
            let parts = [user.map { ("user", $0) }, client.map { ("client-id", $0) }].compactMap { $0 }
            if let why = FakeCluster.clientQuotaProblem(key, rate, entity: parts.map { (type: $0.0, name: $0.1) }) { throw p.error(why) }
            return .quota(key: key, rate: rate, user: user, clientId: client)
        case "truncate-and-lead":
            let tp = try p.word("topic/partition").split(separator: "/")
            guard tp.count == 2, let part = Int32(tp[1]) else { throw p.error("truncate-and-lead wants TOPIC/PARTITION") }
            try p.expect("replica"); let r: Int32 = try p.int("replica")
            try p.expect("to"); let o: Int64 = try p.int("offset")
            return .truncateAndLead(topic: String(tp[0]), partition: part, replica: r, offset: o)
        case "stall-heartbeats":
            let g = try p.word("group")
            let who = try member(&p) ?? .all
            try p.expect("for"); let w = try p.duration("window")
            return .stallHeartbeats(group: g, who: who, window: w, drop: p.accept("drop"))
        case "disconnect-member":
            let g = try p.word("group")
            guard let who = try member(&p) else { throw p.error("disconnect-member wants leader, all, instance I or member M") }
            return .disconnectMember(group: g, who: who)
        case "inject-group-error":
            let g = try p.word("group"); let api = try p.word("api"); let e = try p.word("error")
            guard let key = ApiNames.key(api) else { throw p.error("unknown API \(api)") }
            guard [ApiKey.joinGroup, .syncGroup, .heartbeat, .leaveGroup, .offsetCommit, .offsetFetch, .txnOffsetCommit,
                   .consumerGroupHeartbeat].contains(key) else {
                throw p.error("inject-group-error wants a group API, not \(api)")
            }
            guard ApiNames.error(e) != nil else { throw p.error("unknown error \(e)") }
            try p.expect("count"); let n: Int = try p.int("count")
            return .injectGroupError(group: g, api: api, error: e, count: n)
        case "add-partitions":
            let t = try p.word("topic"); try p.expect("count")
            return .addPartitions(topic: t, count: try p.int("count"))
        case "stop-coordinator": return .stopCoordinator(group: try p.word("group"))
        case "stop-txn-coordinator": return .stopTxnCoordinator(transactionalId: try p.word("transactional id"))
        case "restart-brokers": return .restartBrokers
        case "upgrade-broker":
            let b: Int32 = try p.int("broker")
            try p.expect("to")
            let text = try p.word("release")
            guard let r = KafkaRelease.named(text) else { throw p.error("unknown Kafka release \(text) (e.g. 0.10.2, 2.8, 3.7)") }
            return .upgradeBroker(b, to: r)
        default: throw p.error("unknown fault \(kind)")
        }
    }

    /// A group member selector: `leader`, `all`, `instance I` or `member M`; nil when none is next.
    static func member(_ p: inout Words) throws(ScenarioError) -> FakeGroupMember? {
        if p.accept("leader") { return .leader }
        if p.accept("all") { return .all }
        if p.accept("instance") { return .instanceId(try p.word("instance id")) }
        if p.accept("member") { return .memberId(try p.word("member id")) }
        return nil
    }

    /// The scenario in its own format; parsing the result gives back an equal scenario.
    package func render() -> String {
        var out: [String] = []
        out.append("seed \(seed)")
        out.append("brokers \(brokers)" + (racks.isEmpty ? "" : " racks \(racks.joined(separator: ","))"))
        if transactionVersion != 0 { out.append("transaction-version \(transactionVersion)") }
        if let release { out.append("release \(release.name)") }
        for t in topics { out.append("topic \(t.name) partitions \(t.partitions)" + (t.replicationFactor > 0 ? " rf \(t.replicationFactor)" : "")) }
        if let s = sasl {
            out.append("sasl \(s.sha512 ? "scram-sha-512" : "scram-sha-256") user \(s.user) password \(s.password)"
                       + (s.sessionMs > 0 ? " session \(s.sessionMs)ms" : ""))
        }
        out.append("latency \(DurationText.format(latencyMin))..\(DurationText.format(latencyMax))")
        for w in workloads {
            switch w {
            case .produce(let t, let e, let r): out.append("workload produce topic \(t) every \(DurationText.format(e)) records \(r)")
            case .listOffsets(let t, let e): out.append("workload list-offsets topic \(t) every \(DurationText.format(e))")
            case .commit(let g, let t, let e): out.append("workload commit group \(g) topic \(t) every \(DurationText.format(e))")
            case .adminGroups(let g, let t, let e):
                out.append("workload admin-groups \(g.joined(separator: ",")) topic \(t) every \(DurationText.format(e))")
            case .metadata(let e): out.append("workload metadata every \(DurationText.format(e))")
            case .consume(let t, let rc, let s):
                out.append("workload consume topic \(t)" + (rc ? " read-committed" : "") + (s ? "" : " no-sessions"))
            case .txnWrite(let t, let e, let n): out.append("workload txn-write topic \(t) every \(DurationText.format(e)) producers \(n)")
            case .producer(let t, let n, let e, let b): out.append("workload producer topic \(t) records \(n) every \(DurationText.format(e)) batch \(b)")
            case .txnProducer(let x):
                var line = "workload txn-producer topic \(x.topic) transactions \(x.transactions) records \(x.records) every \(DurationText.format(x.every))"
                if let k = x.abortEvery { line += " abort-every \(k)" } else { line += " abort-ratio \(x.abortRatio)" }
                line += " timeout \(DurationText.format(x.timeout))"
                if let z = x.zombieAt { line += " zombie at \(DurationText.format(z))" }
                out.append(line)
            }
        }
        for f in faults { out.append("at \(DurationText.format(f.at)) \(f.fault)") }
        if let r = randomFaults {
            out.append("faults random count \(r.count) until \(DurationText.format(r.until))"
                       + (r.kinds.isEmpty ? "" : " kinds \(r.kinds.joined(separator: ","))"))
        }
        out.append("safety \(DurationText.format(safety))")
        out.append("liveness \(DurationText.format(liveness)) bound \(DurationText.format(livenessBound))")
        for i in invariants { out.append("invariant \(i)") }
        return out.joined(separator: "\n") + "\n"
    }
}

/// A line's words, consumed left to right.
struct Words {
    var words: [String]
    var line: Int
    var i = 0

    func error(_ m: String) -> ScenarioError { ScenarioError(line: line, message: m) }

    mutating func word(_ what: String) throws(ScenarioError) -> String {
        guard i < words.count else { throw error("missing \(what)") }
        i += 1
        return words[i - 1]
    }

    mutating func accept(_ w: String) -> Bool {
        guard i < words.count, words[i] == w else { return false }
        i += 1
        return true
    }

    mutating func expect(_ w: String) throws(ScenarioError) {
        guard accept(w) else { throw error("expected '\(w)'") }
    }

    mutating func uint(_ what: String) throws(ScenarioError) -> UInt64 {
        let w = try word(what)
        guard let v = UInt64(w) else { throw error("\(what): '\(w)' is not a number") }
        return v
    }

    /// A number that fits `T`; a larger one is an error, not a trap (found by FuzzScenario).
    mutating func int<T: FixedWidthInteger>(_ what: String) throws(ScenarioError) -> T {
        let v = try uint(what)
        guard let t = T(exactly: v) else { throw error("\(what): \(v) is too large (at most \(T.max))") }
        return t
    }

    mutating func duration(_ what: String) throws(ScenarioError) -> UInt64 {
        let w = try word(what)
        guard let v = DurationText.parse(w) else { throw error("\(what): '\(w)' is not a duration (250ms, 2.5s, 1m)") }
        return v
    }

    func end() throws(ScenarioError) {
        if i < words.count { throw error("unexpected '\(words[i...].joined(separator: " "))'") }
    }
}

/// API keys and error codes by the names scenarios use ("produce", "NOT_LEADER_OR_FOLLOWER").
enum ApiNames {
    static func key(_ name: String) -> ApiKey? {
        let n = String(name.lowercased().filter { $0 != "-" })
        return ApiKey.all.first { $0.name.lowercased() == n }
    }

    static func error(_ name: String) -> KafkaErrorCode? {
        for raw in Int16(-1) ... 200 where KafkaErrorCode(raw).name == name { return KafkaErrorCode(raw) }
        return nil
    }
}
