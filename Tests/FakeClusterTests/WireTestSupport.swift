@testable import FakeCluster
import Testing

/// A minimal client for wire tests: encodes requests, feeds the cluster, decodes responses.
struct WireClient {
    var connection: FakeConnectionID
    var nextCorrelation: Int32 = 1
    var clientId: String

    init(_ cluster: inout FakeCluster, broker: Int32, clientId: String = "wire-test") {
        connection = cluster.connect(broker: broker)!
        self.clientId = clientId
    }

    mutating func frame<R: KafkaRequest>(_ r: R, version: Int16) -> (bytes: [UInt8], correlationId: Int32) {
        let c = nextCorrelation
        nextCorrelation += 1
        return (try! encodeRequestFrame(r, version: version, correlationId: c, clientId: clientId), c)
    }

    /// Sends one request and returns the outputs it caused.
    mutating func send<R: KafkaRequest>(_ r: R, version: Int16, to cluster: inout FakeCluster, now: Instant = .zero) -> [FakeOutput] {
        cluster.receive(connection, frame(r, version: version).bytes, now: now)
    }

    /// Sends one request and decodes its immediate response.
    mutating func call<R: KafkaRequest>(_ r: R, version: Int16, on cluster: inout FakeCluster,
                                        now: Instant = .zero) throws -> R.Response {
        let out = send(r, version: version, to: &cluster, now: now)
        let mine = sent(out)
        try #require(mine.count == 1, "expected one response, got \(out)")
        return try decode(R.Response.self, version: version, mine[0])
    }

    func sent(_ out: [FakeOutput]) -> [[UInt8]] {
        out.compactMap { if case .send(let c, let b) = $0, c == connection { return b } else { return nil } }
    }

    func closed(_ out: [FakeOutput]) -> Bool {
        out.contains { if case .close(let c, _) = $0 { return c == connection } else { return false } }
    }

    func decode<T: KafkaResponse>(_ type: T.Type, version: Int16, _ bytes: [UInt8]) throws -> T {
        try parseResponse(for: type, version: version, frame: Array(bytes.dropFirst(4))).response
    }
}

func threeBrokers(seed: UInt64 = 7, _ configure: (inout FakeClusterConfig) -> Void = { _ in }) -> FakeCluster {
    var c = FakeClusterConfig(brokers: FakeClusterConfig.brokers(3, firstPort: 9092), seed: seed)
    configure(&c)
    return FakeCluster(c)
}

func produceRequest(_ topic: String, _ partition: Int32, _ batch: [UInt8], acks: Int16 = -1) -> ProduceRequest {
    var r = ProduceRequest()
    r.acks = acks
    r.timeoutMs = 5_000
    var t = ProduceRequest.TopicProduceData()
    t.name = topic
    var p = ProduceRequest.PartitionProduceData()
    p.index = partition
    p.records = batch
    t.partitionData = [p]
    r.topicData = [t]
    return r
}

func fetchRequest(_ topic: String, _ partition: Int32, offset: Int64, minBytes: Int32 = 1, maxWaitMs: Int32 = 500) -> FetchRequest {
    var r = FetchRequest()
    r.replicaId = -1
    r.maxWaitMs = maxWaitMs
    r.minBytes = minBytes
    r.maxBytes = 1 << 20
    r.sessionEpoch = -1
    var t = FetchRequest.FetchTopic()
    t.topic = topic
    var p = FetchRequest.FetchPartition()
    p.partition = partition
    p.fetchOffset = offset
    p.partitionMaxBytes = 1 << 20
    t.partitions = [p]
    r.topics = [t]
    return r
}
