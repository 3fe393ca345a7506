import FakeCluster

/// Reads partitions straight from the fake cluster's leaders over its wire API (a
/// connection of its own, outside the simulated network and the action hash) and checks
/// each acknowledged record is in the log at the offset the broker acknowledged.
enum LogChecker {
    static let user = "sim-checker"

    static func check(_ acked: [AckedRecord], cluster: inout FakeCluster, sasl: Bool, now: UInt64, into v: inout Violations) {
        check(acked, now: now, into: &v) { topic, partition in read(topic, partition, cluster: &cluster, sasl: sasl, now: now) }
    }

    /// The check over logs from `read` (the simulation reads each partition once for every checker).
    static func check(_ acked: [AckedRecord], now: UInt64, into v: inout Violations,
                      read: (String, Int32) -> Result<PartitionRecords, ReadError>) {
        guard v.checks("acked-in-log"), !acked.isEmpty else { return }
        // Indexes into `acked` per partition; acks come in runs of one partition, so the
        // previous record's group is tried before hashing.
        var groupOf: [TopicPartition: Int] = [:]
        var groups: [(key: TopicPartition, indexes: [Int])] = []
        var last = -1
        for (i, a) in acked.enumerated() {
            if last < 0 || groups[last].key.partition != a.partition || groups[last].key.topic != a.topic {
                let key = TopicPartition(topic: a.topic, partition: a.partition)
                if let g = groupOf[key] { last = g } else {
                    last = groups.count
                    groupOf[key] = last
                    groups.append((key, []))
                }
            }
            groups[last].indexes.append(i)
        }
        for (key, indexes) in groups.sorted(by: { $0.key < $1.key }) {
            let (topic, partition) = (key.topic, key.partition)
            let log: PartitionRecords
            switch read(topic, partition) {
            case .success(let l): log = l
            case .failure(let e):
                v.add("acked-in-log", "cannot read \(topic)[\(partition)] back: \(e.message)", at: now)
                continue
            }
            for i in indexes {
                let a = acked[i]
                guard let found = log[a.offset] else {
                    v.add("acked-in-log", "\(topic)[\(partition)] offset \(a.offset) acked but missing from the log", at: now)
                    return
                }
                if found != a.value {
                    v.add("acked-in-log", "\(topic)[\(partition)] offset \(a.offset) holds \(String(decoding: found, as: UTF8.self)), acked \(String(decoding: a.value, as: UTF8.self))", at: now)
                    return
                }
            }
        }
    }

    struct ReadError: Error { var message: String }

    /// Every record of the partition, by offset.
    static func read(_ topic: String, _ partition: Int32, cluster: inout FakeCluster, sasl: Bool, now: UInt64) -> Result<PartitionRecords, ReadError> {
        readBatches(topic, partition, cluster: &cluster, sasl: sasl, now: now).map { batches in
            var log = PartitionRecords()
            for b in batches {
                for r in b.records { log.append(r.offset, r.valueBytes ?? [], producerId: b.header.producerId) }
            }
            return log
        }
    }

    /// Every batch of the partition (control batches included), in log order.
    static func readBatches(_ topic: String, _ partition: Int32, cluster: inout FakeCluster, sasl: Bool, now: UInt64) -> Result<[RecordBatch], ReadError> {
        guard let leader = cluster.partitionInfo(.init(topic, partition))?.leader,
              let conn = cluster.connect(broker: leader) else { return .failure(ReadError(message: "no leader")) }
        defer { cluster.disconnect(conn) }
        let at = Instant(nanoseconds: now)
        var correlation: Int32 = 0
        func call<Req: KafkaRequest, Resp: KafkaResponse>(_ r: Req, _ version: Int16, _ type: Resp.Type) -> Resp? {
            correlation += 1
            guard let frame = try? encodeRequestFrame(r, version: version, correlationId: correlation, clientId: "sim-checker") else { return nil }
            for o in cluster.receive(conn, frame, now: at) {
                if case .send(_, let bytes) = o, let parsed = try? parseResponse(for: type, version: version, frame: Array(bytes.dropFirst(4))) {
                    return parsed.response
                }
            }
            return nil
        }
        if sasl {
            var h = SaslHandshakeRequest()
            h.mechanism = "PLAIN"
            guard call(h, 1, SaslHandshakeResponse.self)?.errorCode == 0 else { return .failure(ReadError(message: "SASL handshake")) }
            var a = SaslAuthenticateRequest()
            a.authBytes = [0] + Array(user.utf8) + [0] + Array(user.utf8)
            guard call(a, 0, SaslAuthenticateResponse.self)?.errorCode == 0 else { return .failure(ReadError(message: "SASL authenticate")) }
        }
        // v11, or the newest the leader serves (an emulated old release: `release 0.10.2`).
        let fetchVersion = min(11, cluster.release(of: leader).versions(.fetch)?.upperBound ?? 11)
        var log: [RecordBatch] = []
        var offset: Int64 = 0
        let contexts = CompressionContexts()
        while true {
            var fp = FetchRequest.FetchPartition()
            fp.partition = partition
            fp.fetchOffset = offset
            fp.partitionMaxBytes = 1 << 24
            var ft = FetchRequest.FetchTopic()
            ft.topic = topic
            ft.partitions = [fp]
            var f = FetchRequest()
            f.replicaId = -1
            f.topics = [ft]
            guard let resp = call(f, fetchVersion, FetchResponse.self), let pd = resp.responses.first?.partitions.first else {
                return .failure(ReadError(message: "fetch at \(offset) got no answer"))
            }
            guard pd.errorCode == 0 else { return .failure(ReadError(message: "fetch at \(offset): error \(pd.errorCode)")) }
            guard let bytes = pd.records, !bytes.isEmpty,
                  let batches = try? RecordsReader.decodeAll(bytes, contexts: contexts).batches, !batches.isEmpty else { break }
            // A re-read batch (the fetch started inside it) is kept once.
            log += batches.filter { $0.baseOffset >= offset || log.isEmpty }
            let last = batches.last!.records.last?.offset ?? offset
            guard last + 1 > offset, last + 1 < pd.highWatermark else { break }
            offset = last + 1
        }
        return .success(log)
    }
}

/// A partition's records by offset, as read back from its leader: offsets ascending (each
/// once, the last value written for it kept), looked up by binary search, so checking
/// 100,000 acked records needs no hashing.
package struct PartitionRecords: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    package private(set) var offsets: [Int64] = []
    package private(set) var values: [[UInt8]] = []
    /// The producer id of each record's batch: -1 for a batch written without idempotence
    /// (and for a legacy message set, which has no producer id).
    package private(set) var producerIds: [Int64] = []

    package init() {}

    package init(dictionaryLiteral elements: (Int64, [UInt8])...) {
        for (o, v) in elements.sorted(by: { $0.0 < $1.0 }) { append(o, v) }
    }

    package var count: Int { offsets.count }

    /// Adds a record. Reads go forward, so this is an append; an offset at or below the
    /// last one (a re-read) replaces or inserts in place.
    package mutating func append(_ offset: Int64, _ value: [UInt8], producerId: Int64 = -1) {
        guard let last = offsets.last, offset <= last else {
            offsets.append(offset)
            values.append(value)
            producerIds.append(producerId)
            return
        }
        let i = index(of: offset)
        if i < offsets.count, offsets[i] == offset {
            values[i] = value
            producerIds[i] = producerId
        } else {
            offsets.insert(offset, at: i)
            values.insert(value, at: i)
            producerIds.insert(producerId, at: i)
        }
    }

    /// The value at `offset`, nil when the log has no record there.
    package subscript(offset: Int64) -> [UInt8]? {
        // Offsets are usually dense from the first: try the direct index first.
        if let first = offsets.first, offset >= first, offset - first < Int64(offsets.count),
           offsets[Int(offset - first)] == offset {
            return values[Int(offset - first)]
        }
        let i = index(of: offset)
        return i < offsets.count && offsets[i] == offset ? values[i] : nil
    }

    /// The first index whose offset is at or past `offset`.
    func index(of offset: Int64) -> Int {
        var lo = 0, hi = offsets.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if offsets[mid] < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
