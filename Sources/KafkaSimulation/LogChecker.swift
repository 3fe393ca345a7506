import FakeCluster

/// Reads partitions straight from the fake cluster's leaders over its wire API (a
/// connection of its own, outside the simulated network and the action hash) and checks
/// each acknowledged record is in the log at the offset the broker acknowledged.
enum LogChecker {
    static let user = "sim-checker"

    static func check(_ acked: [AckedRecord], cluster: inout FakeCluster, sasl: Bool, now: UInt64, into v: inout Violations) {
        guard v.checks("acked-in-log"), !acked.isEmpty else { return }
        var byPartition: [String: [AckedRecord]] = [:]
        for a in acked { byPartition["\(a.topic)\u{0}\(a.partition)", default: []].append(a) }
        for key in byPartition.keys.sorted() {
            let records = byPartition[key]!
            let (topic, partition) = (records[0].topic, records[0].partition)
            let log: [Int64: [UInt8]]
            switch read(topic, partition, cluster: &cluster, sasl: sasl, now: now) {
            case .success(let l): log = l
            case .failure(let e):
                v.add("acked-in-log", "cannot read \(topic)[\(partition)] back: \(e.message)", at: now)
                continue
            }
            for a in records {
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
    static func read(_ topic: String, _ partition: Int32, cluster: inout FakeCluster, sasl: Bool, now: UInt64) -> Result<[Int64: [UInt8]], ReadError> {
        guard let leader = cluster.partitionInfo(.init(topic, partition))?.leader,
              let conn = cluster.connect(broker: leader) else { return .failure(ReadError(message: "no leader")) }
        defer { cluster.disconnect(conn) }
        let at = VirtualInstant(nanoseconds: now)
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
        var log: [Int64: [UInt8]] = [:]
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
            guard let resp = call(f, 11, FetchResponse.self), let pd = resp.responses.first?.partitions.first else {
                return .failure(ReadError(message: "fetch at \(offset) got no answer"))
            }
            guard pd.errorCode == 0 else { return .failure(ReadError(message: "fetch at \(offset): error \(pd.errorCode)")) }
            guard let bytes = pd.records, !bytes.isEmpty,
                  let batches = try? RecordsReader.decodeAll(bytes, contexts: contexts).batches, !batches.isEmpty else { break }
            for b in batches {
                for r in b.records { log[r.offset] = r.valueBytes ?? [] }
            }
            let last = batches.last!.records.last?.offset ?? offset
            guard last + 1 > offset, last + 1 < pd.highWatermark else { break }
            offset = last + 1
        }
        return .success(log)
    }
}
