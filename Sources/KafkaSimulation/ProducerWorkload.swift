import KafkaStateMachines

/// Drives the engine's producer: `records` unkeyed records (value "v<token>"), `batch` per
/// wake, then one flush. Checks (producer-delivery, producer-flushed): every record gets
/// exactly one report; acknowledged records sit in the log exactly once, at their offset,
/// in produce order within their partition; no record is left buffered after the flush.
///
/// A producer whose defaulted idempotence was turned off (the cluster could not do it,
/// `idempotenceDisabled`) is at-least-once meanwhile, so a record may sit in the log twice
/// then, but never twice under one producer id: the broker dedups a producer id's batches,
/// so two copies under one id are a duplicate idempotence let through. With
/// `expectIdempotentEnd` (the cluster was upgraded to a release that can do idempotence),
/// producer-idempotence checks it was taken up again: the last switch the producer
/// announced is `idempotenceEnabled`, and every record produced after that announcement
/// is in the log once, written with a producer id.
struct ProducerWorkload: SimWorkload {
    let topic: String
    let records: Int
    let every: UInt64
    let batch: Int
    var produced = 0
    var flushPromise: PromiseID? = nil
    var flushed = false
    /// Per token: (partition, offset) when acked, nil when failed. Tokens are 1-based.
    var outcome: [(partition: Int32, offset: Int64, ok: Bool)?]
    var reports = 0
    var duplicateReports = 0
    var failed = 0
    var fatal: ProduceError? = nil
    /// Idempotence switches the producer announced: true for on again, false for off.
    var idempotenceSwitches: [Bool] = []
    /// How many records had been produced when idempotence was last announced on again.
    var producedAtLastEnable: Int? = nil
    let expectIdempotentEnd: Bool

    init(topic: String, records: Int, every: UInt64, batch: Int, expectIdempotentEnd: Bool = false) {
        self.topic = topic
        self.records = records
        self.every = every
        self.batch = batch
        self.expectIdempotentEnd = expectIdempotentEnd
        outcome = Array(repeating: nil, count: records + 1)
    }

    /// The producer ran without idempotence at some point.
    var ranWithoutIdempotence: Bool { idempotenceSwitches.contains(false) }

    var name: String { "producer \(topic)" }

    /// "v<token>" in UTF-8 (decimal, no leading zeros), built without a String.
    static func value(_ token: UInt64) -> [UInt8] {
        var digits = 1
        var t = token
        while t >= 10 { t /= 10; digits += 1 }
        var out = [UInt8](repeating: UInt8(ascii: "0"), count: digits + 1)
        out[0] = UInt8(ascii: "v")
        t = token
        var i = digits
        while t > 0 {
            out[i] = UInt8(ascii: "0") + UInt8(t % 10)
            t /= 10
            i -= 1
        }
        return out
    }

    /// The token of a value `value(_:)` made (nil for any other bytes), so duplicate
    /// detection can index by token instead of hashing values.
    static func token(of value: [UInt8]) -> UInt64? {
        guard value.count >= 2, value.count <= 21, value[0] == UInt8(ascii: "v"), value[1] != UInt8(ascii: "0") else { return nil }
        var t: UInt64 = 0
        for b in value[1...] {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = t.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            t = a
        }
        return t
    }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        let n = min(batch, records - produced)
        for _ in 0 ..< n {
            produced += 1
            let token = UInt64(produced)
            ctx.produce(ProducerRecord(topic: topic, value: Self.value(token), timestamp: Int64(ctx.now / 1_000_000), token: token))
        }
        if produced >= records {
            if flushPromise == nil { flushPromise = ctx.flush() }
            return nil
        }
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {}

    mutating func delivered(_ report: DeliveryReport, _ ctx: inout WorkloadContext) {
        guard report.topic == topic else { return }
        for (i, token) in report.tokens.enumerated() {
            guard token >= 1, Int(token) <= records else { continue }
            reports += 1
            if outcome[Int(token)] != nil { duplicateReports += 1 }
            if let e = report.error {
                failed += 1
                if case .fatal = e { fatal = e }
                outcome[Int(token)] = (report.partition, -1, false)
            } else {
                let offset = report.baseOffset + Int64(i)
                outcome[Int(token)] = (report.partition, offset, true)
                ctx.acked.append(AckedRecord(topic: topic, partition: report.partition, offset: offset, value: Self.value(token)))
            }
        }
    }

    mutating func producerNotice(_ notice: ProducerNotice, _ ctx: inout WorkloadContext) {
        switch notice {
        case .flushed(let p) where p == flushPromise: flushed = true
        case .idempotenceDisabled: idempotenceSwitches.append(false)
        case .idempotenceEnabled:
            idempotenceSwitches.append(true)
            producedAtLastEnable = produced
        default: break
        }
    }

    func finish(_ ctx: inout WorkloadContext) {
        let v = "producer-delivery"
        if duplicateReports > 0 { ctx.violations.add(v, "\(name): \(duplicateReports) records reported more than once", at: ctx.now) }
        let missing = (1 ... max(1, produced)).filter { produced > 0 && outcome[$0] == nil }
        if !missing.isEmpty {
            ctx.violations.add(v, "\(name): \(missing.count) of \(produced) records never reported (first token \(missing[0]))", at: ctx.now)
        }
        if let fatal { ctx.violations.add(v, "\(name): producer failed fatally: \(fatal)", at: ctx.now) }
        // Order: within a partition, acked offsets rise with produce order.
        var last: [Int32: (token: Int, offset: Int64)] = [:]
        for t in 1 ..< outcome.count {
            guard let o = outcome[t], o.ok else { continue }
            if let prev = last[o.partition], prev.offset >= o.offset {
                ctx.violations.add(v, "\(name): [\(o.partition)] token \(t) at offset \(o.offset) after token \(prev.token) at \(prev.offset)", at: ctx.now)
                break
            }
            last[o.partition] = (t, o.offset)
        }
        if produced >= records && !flushed {
            ctx.violations.add("producer-flushed", "\(name): flush never completed", at: ctx.now)
        }
        if expectIdempotentEnd, ctx.violations.checks("producer-idempotence") {
            if !ranWithoutIdempotence {
                ctx.violations.add("producer-idempotence", "\(name): the producer never ran without idempotence (the scenario expects a cluster that cannot do it at first)", at: ctx.now)
            } else if idempotenceSwitches.last != true {
                ctx.violations.add("producer-idempotence", "\(name): the cluster was upgraded but the producer did not take idempotence up again (switches: \(idempotenceSwitches.map { $0 ? "on" : "off" }.joined(separator: ", ")))", at: ctx.now)
            }
        }
        if failed > 0 && ctx.inLiveness {
            // Unbounded retries and no delivery timeout: nothing should fail.
            ctx.violations.add(v, "\(name): \(failed) records failed", at: ctx.now)
        }
    }

    func checkLogs(_ read: (String, Int32) -> PartitionRecords?, _ ctx: inout WorkloadContext) {
        let v = "producer-delivery"
        guard ctx.violations.checks(v) else { return }
        var partitions = Set<Int32>()
        for o in outcome { if let o, o.ok { partitions.insert(o.partition) } }
        // Second copies of records left while idempotence was off (allowed, counted).
        var allowedDuplicates = 0
        defer {
            if ranWithoutIdempotence {
                let back = producedAtLastEnable.map { " (last on after \($0) of \(records) records)" } ?? ""
                ctx.note("\(name): idempotence \(idempotenceSwitches.map { $0 ? "on" : "off" }.joined(separator: ", then "))\(back); \(allowedDuplicates) records in the log twice, written while it was off")
            }
        }
        for p in partitions.sorted() {
            guard let log = read(topic, p) else {
                ctx.violations.add(v, "\(name): cannot read [\(p)]", at: ctx.now)
                continue
            }
            // Values this workload wrote are indexed by token; anything else is hashed.
            var seenToken = [Int64](repeating: -1, count: records + 1)
            var seenOther: [[UInt8]: Int64] = [:]
            // Per token, the copies written with a producer id so far: (offset, id).
            var idempotentCopies: [Int: [(offset: Int64, producerId: Int64)]] = [:]
            // Records produced after idempotence was last announced on again (tokens past
            // this) must be in the log once, with a producer id.
            let resumedAfter = expectIdempotentEnd && ctx.violations.checks("producer-idempotence") && idempotenceSwitches.last == true
                ? producedAtLastEnable : nil
            var resumeViolation: String? = nil
            for (i, (offset, value)) in zip(log.offsets, log.values).enumerated() {
                let producerId = log.producerIds[i]
                let first: Int64?
                if let t = Self.token(of: value), t <= UInt64(records) {
                    first = seenToken[Int(t)] >= 0 ? seenToken[Int(t)] : nil
                    seenToken[Int(t)] = first ?? offset
                    if let after = resumedAfter, Int(t) > after, resumeViolation == nil {
                        if producerId < 0 {
                            resumeViolation = "[\(p)] \(String(decoding: value, as: UTF8.self)) (offset \(offset)), produced after idempotence was back, was written without a producer id"
                        } else if let first {
                            resumeViolation = "[\(p)] \(String(decoding: value, as: UTF8.self)), produced after idempotence was back, is at offsets \(first) and \(offset)"
                        }
                    }
                    if ranWithoutIdempotence, first != nil {
                        // At-least-once while idempotence was off: a second copy is allowed
                        // unless an earlier one was written under the same producer id.
                        let same = producerId >= 0 ? idempotentCopies[Int(t)]?.first { $0.producerId == producerId } : nil
                        if let same {
                            ctx.violations.add(v, "\(name): [\(p)] \(String(decoding: value, as: UTF8.self)) at offsets \(same.offset) and \(offset), both under producer id \(producerId) (duplicate under idempotence)", at: ctx.now)
                            return
                        }
                        allowedDuplicates += 1
                        if producerId >= 0 { idempotentCopies[Int(t), default: []].append((offset, producerId)) }
                        continue
                    }
                    if producerId >= 0 { idempotentCopies[Int(t), default: []].append((offset, producerId)) }
                } else {
                    first = seenOther[value]
                    if first == nil { seenOther[value] = offset }
                }
                if let first {
                    ctx.violations.add(v, "\(name): [\(p)] \(String(decoding: value, as: UTF8.self)) at offsets \(first) and \(offset) (duplicate)", at: ctx.now)
                    return
                }
            }
            if let resumeViolation { ctx.violations.add("producer-idempotence", "\(name): \(resumeViolation)", at: ctx.now) }
        }
    }
}
