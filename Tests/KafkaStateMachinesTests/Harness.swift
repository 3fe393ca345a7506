import Testing
@testable import KafkaStateMachines

/// A request the engine wrote, decoded as a broker would.
struct SeenRequest {
    var connection: ConnectionID
    var apiKey: ApiKey
    var version: Int16
    var correlationId: Int32
    var body: any KafkaRequest
}

/// Drives an engine in transcript style: feed inputs, collect the actions.
struct Harness {
    var engine: ClientEngine
    var now = Instant.zero
    var log: [Action] = []

    init(_ config: EngineConfig, seed: UInt64 = 1) {
        engine = ClientEngine(config: config, seed: seed)
    }

    static func config(seeds: Int = 1) -> EngineConfig {
        var c = EngineConfig(seeds: (0 ..< seeds).map { BrokerAddress(host: "seed\($0)", port: 9092) })
        c.backoff = BackoffPolicy(initial: .milliseconds(100), max: .milliseconds(1000), jitter: 0.2)
        return c
    }

    mutating func drain() -> [Action] {
        let a = engine.drainActions()
        log += a
        return a
    }

    mutating func advance(to t: UInt64) -> [Action] {
        now = .milliseconds(t)
        engine.tick(now: now)
        // A tick must consume every deadline it was due for: one left at or before `now`
        // would spin the driver.
        if let next = engine.nextDeadline() { #expect(next > now, "deadline \(next) not after \(now)") }
        return drain()
    }

    mutating func request(_ r: any KafkaRequest, to target: RequestTarget = .automatic, pin: ClosedRange<Int16>? = nil,
                          maxRetries: Int? = nil, promise: UInt64) -> [Action] {
        engine.request(r, to: target, pin: pin, maxRetries: maxRetries, promise: PromiseID(promise), now: now)
        return drain()
    }

    mutating func opened(_ c: UInt64) -> [Action] {
        engine.connectionOpened(ConnectionID(c), now: now)
        return drain()
    }

    mutating func receive(_ c: UInt64, _ bytes: [UInt8]) -> [Action] {
        engine.bytesReceived(ConnectionID(c), bytes, now: now)
        return drain()
    }

    /// Opens connection `c` and answers its ApiVersions with every key at our full range.
    mutating func handshake(_ c: UInt64, versions: ApiVersionsResponse = fullApiVersions()) -> [Action] {
        let writes = opened(c)
        let req = decodeWrites(writes)
        #expect(req.count == 1 && req[0].apiKey == .apiVersions)
        return receive(c, respond(req[0], versions))
    }
}

func fullApiVersions() -> ApiVersionsResponse {
    var r = ApiVersionsResponse()
    r.apiKeys = ApiKey.all.compactMap { key in
        guard let v = key.validVersions else { return nil }
        var e = ApiVersionsResponse.ApiVersion()
        e.apiKey = key.rawValue
        e.minVersion = v.lowerBound
        e.maxVersion = v.upperBound
        return e
    }
    return r
}

/// The requests among `actions`' writes, decoded.
func decodeWrites(_ actions: [Action]) -> [SeenRequest] {
    actions.compactMap { a in
        guard case .write(let c, let bytes) = a else { return nil }
        guard let parsed = try? parseRequestHeader(Array(bytes.bytes.dropFirst(4))), let body = try? parsed.decodeBody() else { return nil }
        return SeenRequest(connection: c, apiKey: parsed.apiKey, version: parsed.apiVersion, correlationId: parsed.correlationId, body: body)
    }
}

func respond<R: KafkaResponse>(_ to: SeenRequest, _ response: R) -> [UInt8] {
    try! encodeResponseFrame(response, version: to.version, correlationId: to.correlationId)
}

func opens(_ actions: [Action]) -> [(ConnectionID, BrokerID)] {
    actions.compactMap { if case .open(let c, let b, _, _, _) = $0 { return (c, b) } else { return nil } }
}

func closes(_ actions: [Action]) -> [ConnectionID] {
    actions.compactMap { if case .close(let c) = $0 { return c } else { return nil } }
}

func completions(_ actions: [Action]) -> [(PromiseID, Result<any KafkaResponse, KafkaClientError>)] {
    actions.compactMap { if case .complete(let p, let r) = $0 { return (p, r) } else { return nil } }
}

func failure(_ actions: [Action], _ promise: UInt64) -> KafkaClientError? {
    for (p, r) in completions(actions) where p == PromiseID(promise) {
        if case .failure(let e) = r { return e }
    }
    return nil
}

func success<R: KafkaResponse>(_ actions: [Action], _ promise: UInt64, as: R.Type) -> R? {
    for (p, r) in completions(actions) where p == PromiseID(promise) {
        if case .success(let resp) = r { return resp as? R }
    }
    return nil
}

func metadataResponse(brokers: [Int32], controller: Int32 = 1, topics: [(String, [(Int32, Int32)])] = []) -> MetadataResponse {
    var m = MetadataResponse()
    m.brokers = brokers.map { id in
        var b = MetadataResponse.MetadataResponseBroker()
        b.nodeId = id
        b.host = "broker\(id)"
        b.port = 9092
        return b
    }
    m.controllerId = controller
    m.topics = topics.map { name, parts in
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = name
        t.partitions = parts.map { p, leader in
            var x = MetadataResponse.MetadataResponsePartition()
            x.partitionIndex = p
            x.leaderId = leader
            return x
        }
        return t
    }
    return m
}
