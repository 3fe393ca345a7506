import FakeCluster
import KafkaProtocol
import KafkaStateMachines

/// A direct consumer: assigns every partition of a topic from the start through the
/// engine's fetcher, "polls" each delivery at once (decoding it as a user would), and
/// checks as it goes that offsets only move forward except where a data loss was reported.
/// At the end `ConsumerChecker` compares what it saw with the leader's log.
struct ConsumerWorkload: SimWorkload {
    let topic: String
    let partitions: Int32
    let isolation: IsolationLevel
    var started = false
    /// The latest value consumed at each offset, by partition.
    var seen: [Int32: [Int64: [UInt8]]] = [:]
    /// Values in consumption order, by partition (for read_committed order checks).
    var order: [Int32: [(offset: Int64, value: [UInt8])]] = [:]
    var last: [Int32: Int64] = [:]
    /// Where the fetcher continues, by partition (from deliveries).
    var position: [Int32: Int64] = [:]
    var losses: [DataLoss] = []
    var records = 0
    let contexts = CompressionContexts()

    var name: String { "consume \(topic)" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        guard !started else { return nil }
        started = true
        var assign: [TopicPartition: StartOffset] = [:]
        for p in 0 ..< partitions { assign[TopicPartition(topic, p)] = .start }
        ctx.consumer.append(.assign(assign))
        return nil
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {}

    mutating func fetched(_ batch: FetchBatch, _ ctx: inout WorkloadContext) {
        for loss in batch.dataLoss where loss.topicPartition.topic == topic {
            let p = loss.topicPartition.partition
            losses.append(loss)
            // Those offsets are gone: what is consumed there next replaces them.
            if let l = last[p], l >= loss.fromOffset { last[p] = loss.fromOffset - 1 }
            for o in (seen[p] ?? [:]).keys where o >= loss.fromOffset { seen[p]![o] = nil }
            order[p]?.removeAll { $0.offset >= loss.fromOffset }
            position[p] = loss.fromOffset
        }
        for fp in batch.partitions where fp.topicPartition.topic == topic {
            let p = fp.topicPartition.partition
            let d = fp.decode(contexts: contexts)
            if let e = d.error {
                ctx.violations.add("consumed-log", "\(fp.topicPartition) stopped: \(e)", at: ctx.now)
            }
            for r in d.records {
                if let l = last[p], r.offset <= l {
                    ctx.violations.add("consume-order", "\(fp.topicPartition) offset \(r.offset) after \(l) without a data-loss report", at: ctx.now)
                }
                last[p] = r.offset
                seen[p, default: [:]][r.offset] = r.valueBytes ?? []
                order[p, default: []].append((r.offset, r.valueBytes ?? []))
                records += 1
            }
            if fp.error == nil { position[p] = fp.nextOffset }
        }
        ctx.consumer.append(.consumed(batch.bytes))
    }

    func finish(_ ctx: inout WorkloadContext) {}
}

/// The consumer's end-of-run checks against the cluster.
enum ConsumerChecker {
    /// `consumed-log`: the consumer caught up to the end of every partition (high
    /// watermark, or last stable offset for read_committed), and what it holds per offset is
    /// the leader's log as a consumer of that isolation sees it. With a transactional
    /// writer, read_committed must also have seen exactly the committed values, in order.
    static func check(_ w: ConsumerWorkload, writer: TxnWriter?, cluster: inout FakeCluster, now: UInt64, into v: inout Violations) {
        for p in 0 ..< w.partitions {
            let tp = TopicPartition(w.topic, p)
            guard let offsets = cluster.offsets(.init(w.topic, p)) else { continue }
            let end = w.isolation == .readCommitted ? offsets.lastStable : offsets.highWatermark
            let pos = w.position[p] ?? 0
            if pos < end {
                v.add("consumed-log", "\(tp) consumer at \(pos), end is \(end)", at: now)
                continue
            }
            guard let log = read(tp, isolation: w.isolation, cluster: &cluster, now: now) else {
                v.add("consumed-log", "cannot read \(tp) back", at: now)
                continue
            }
            let seen = w.seen[p] ?? [:]
            for o in log.keys.sorted() where o >= offsets.logStart && o < end {
                if seen[o] != log[o] {
                    v.add("consumed-log", "\(tp) offset \(o): consumed \(seen[o].map { String(decoding: $0, as: UTF8.self) } ?? "nothing"), log has \(String(decoding: log[o]!, as: UTF8.self))", at: now)
                    break
                }
            }
            for o in seen.keys.sorted() where log[o] == nil && o < end {
                v.add("consumed-log", "\(tp) offset \(o) consumed but not in the log (a truncation not reported?)", at: now)
                break
            }
            guard let writer else { continue }
            let committed = (writer.committed[p] ?? []).sorted { $0.offset < $1.offset }.map(\.value).filter { !writer.uncertain.contains($0) }
            let got = (w.order[p] ?? []).map(\.value).filter { !writer.uncertain.contains($0) && String(decoding: $0, as: UTF8.self).hasPrefix("txn-") }
            if w.isolation == .readCommitted {
                if got != committed {
                    v.add("read-committed", "\(tp): consumed \(got.count) transactional values, \(committed.count) committed; first difference at \(Array(zip(got, committed)).firstIndex { $0.0 != $0.1 } ?? min(got.count, committed.count))", at: now)
                }
                if let bad = got.first(where: { writer.aborted.contains($0) }) {
                    v.add("read-committed", "\(tp): consumed aborted value \(String(decoding: bad, as: UTF8.self))", at: now)
                }
            }
        }
    }

    /// The partition as a consumer of `isolation` sees it, by offset (control records
    /// and aborted transactions left out), read from the leader directly.
    static func read(_ tp: TopicPartition, isolation: IsolationLevel, cluster: inout FakeCluster, now: UInt64) -> [Int64: [UInt8]]? {
        guard let leader = cluster.partitionInfo(.init(tp.topic, tp.partition))?.leader,
              var conn = DirectConnection(broker: leader, cluster: &cluster) else { return nil }
        defer { conn.close(&cluster) }
        let contexts = CompressionContexts()
        var out: [Int64: [UInt8]] = [:]
        var offset = cluster.offsets(.init(tp.topic, tp.partition))?.logStart ?? 0
        while true {
            var fp = FetchRequest.FetchPartition()
            fp.partition = tp.partition
            fp.fetchOffset = offset
            fp.partitionMaxBytes = 1 << 24
            var ft = FetchRequest.FetchTopic()
            ft.topic = tp.topic
            ft.partitions = [fp]
            var f = FetchRequest()
            f.replicaId = -1
            f.isolationLevel = isolation.rawValue
            f.topics = [ft]
            guard let resp = conn.call(f, version: 11, cluster: &cluster, now: now), let pd = resp.responses.first?.partitions.first,
                  pd.errorCode == 0 else { return nil }
            guard let bytes = pd.records, !bytes.isEmpty else { break }
            let fetched = FetchedPartition(topicPartition: tp, fetchOffset: offset, nextOffset: offset, records: bytes,
                                           abortedTransactions: (pd.abortedTransactions ?? []).map { AbortedTransaction(producerId: $0.producerId, firstOffset: $0.firstOffset) },
                                           isolation: isolation)
            let d = fetched.decode(contexts: contexts)
            for r in d.records { out[r.offset] = r.valueBytes ?? [] }
            guard let next = (try? RecordsReader.decodeAll(bytes, options: RecordDecodingOptions(verifyCRC: false), contexts: contexts))?
                .batches.last?.header.nextOffset else { return nil }
            let end = isolation == .readCommitted ? pd.lastStableOffset : pd.highWatermark
            guard next > offset, next < end else { break }
            offset = next
        }
        return out
    }
}
