import FakeCluster
import KafkaProtocol

/// FakeCluster fed arbitrary request bytes on a connection: it answers (each answer framed,
/// with the request's correlation id) or closes that connection, never traps, and another
/// connection opened before keeps working. The input is sent three ways, each on its own
/// connection: as the body of a well-framed request of the key and version its first four
/// bytes name; as a whole frame (header and body) behind a correct size prefix; and raw, so
/// the size prefix is fuzzed too.
enum ClusterFuzz {
    static let correlationId: Int32 = 7

    static func run(_ input: [UInt8]) {
        var cluster = FakeCluster(FakeClusterConfig(
            brokers: FakeClusterConfig.brokers(2, firstPort: 9092),
            topics: [.init(name: "t", partitions: 2, replicationFactor: 2)]))
        var now = Instant(nanoseconds: 1_000_000_000)
        let bystander = cluster.connect(broker: 1)!

        if input.count >= 4, let framed = requestFrame(input) {
            let key = ApiKey(Int16(bitPattern: UInt16(input[0]) << 8 | UInt16(input[1])))
            exchange(&cluster, framed, correlation: correlationId, key: key, now: &now)
        }
        var sized = ByteWriter(capacity: input.count + 4)
        sized.writeInt32(Int32(input.count))
        sized.writeRaw(input)
        if input.count >= 8 {
            let key = ApiKey(Int16(bitPattern: UInt16(input[0]) << 8 | UInt16(input[1])))
            let corr = Int32(bitPattern: UInt32(input[4]) << 24 | UInt32(input[5]) << 16 | UInt32(input[6]) << 8 | UInt32(input[7]))
            exchange(&cluster, sized.bytes, correlation: corr, key: key, now: &now)
        } else {
            exchange(&cluster, sized.bytes, correlation: nil, key: nil, now: &now)
        }
        exchange(&cluster, input, correlation: nil, key: nil, now: &now)

        // The connection opened before the hostile ones still answers a plain request.
        let probe = try! encodeRequestFrame(ApiVersionsRequest(), version: 0, correlationId: 99, clientId: "probe")
        var answered = false
        for o in cluster.receive(bystander, probe, now: now) {
            guard case .send(bystander, let bytes) = o else { continue }
            let parsed = try? parseApiVersionsResponse(version: 0, frame: Array(bytes.dropFirst(4)))
            precondition(parsed?.correlationId == 99 && parsed?.response.errorCode == 0,
                         "the bystander connection's ApiVersions answer is wrong after a hostile request")
            answered = true
        }
        precondition(answered, "the bystander connection got no answer after a hostile request")
    }

    /// The header for the key and version the input's first four bytes name, then the rest
    /// of the input as the body; nil when no header version exists for them.
    static func requestFrame(_ input: [UInt8]) -> [UInt8]? {
        let key = ApiKey(Int16(bitPattern: UInt16(input[0]) << 8 | UInt16(input[1])))
        let version = Int16(bitPattern: UInt16(input[2]) << 8 | UInt16(input[3]))
        guard let headerVersion = HeaderVersions.request(apiKey: key, version: version) else { return nil }
        var header = RequestHeader()
        header.requestApiKey = key.rawValue
        header.requestApiVersion = version
        header.correlationId = correlationId
        header.clientId = "fuzz"
        var w = ByteWriter(capacity: input.count + 32)
        let at = w.reserveInt32()
        guard (try? header.encode(into: &w, version: headerVersion)) != nil else { return nil }
        w.writeRaw(input[4...])
        w.patchInt32(at: at, Int32(w.count - at - 4))
        return w.bytes
    }

    /// Sends `bytes` on a new connection to broker 2 and lets virtual time run far enough
    /// for anything held back (a JoinGroup, a Fetch waiting for data, a delayed answer) to
    /// come out. Everything sent must be a whole frame for that connection with the
    /// request's correlation id; a request with a known correlation id must be answered or
    /// the connection closed (except a Produce, which acks=0 leaves unanswered).
    static func exchange(_ cluster: inout FakeCluster, _ bytes: [UInt8], correlation: Int32?, key: ApiKey?,
                         now: inout Instant) {
        let c = cluster.connect(broker: 2)!
        var out = cluster.receive(c, bytes, now: now)
        for _ in 0 ..< 8 {
            guard let d = cluster.nextDeadline else { break }
            now = max(now, d) + .milliseconds(1)
            out += cluster.tick(now: now)
        }
        now = now + .seconds(600)
        out += cluster.tick(now: now)
        var sent = false, closed = false
        for o in out {
            switch o {
            case .send(let id, let frame):
                guard id == c else { continue }
                precondition(frame.count >= 8, "FakeCluster sent a frame of \(frame.count) bytes")
                let size = Int(Int32(bitPattern: UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3])))
                precondition(size == frame.count - 4, "FakeCluster sent a frame whose size prefix is \(size) for \(frame.count - 4) bytes")
                if let correlation {
                    let got = Int32(bitPattern: UInt32(frame[4]) << 24 | UInt32(frame[5]) << 16 | UInt32(frame[6]) << 8 | UInt32(frame[7]))
                    precondition(got == correlation, "FakeCluster answered correlation id \(got) to request \(correlation)")
                }
                sent = true
            case .close(let id, _):
                if id == c { closed = true }
            }
        }
        if correlation != nil, key != .produce, !closed {
            precondition(sent, "FakeCluster neither answered nor closed: \(key.map { "\($0.name)" } ?? "?")")
        }
        if !closed { cluster.disconnect(c) }
    }
}
