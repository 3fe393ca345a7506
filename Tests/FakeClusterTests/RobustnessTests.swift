@testable import FakeCluster
import Testing

/// Every served API at every served version, with default (empty) requests and with
/// random bodies, on a cluster with SASL off and on: the cluster answers or closes the
/// connection, and never crashes.
@Suite struct RobustnessTests {
    private func frame(_ r: some KafkaRequest, version: Int16, correlationId: Int32) -> [UInt8]? {
        try? encodeRequestFrame(r, version: version, correlationId: correlationId, clientId: "robust")
    }

    @Test(arguments: [false, true])
    func defaultAndRandomRequestsNeverCrash(withSasl: Bool) {
        var cluster = threeBrokers {
            $0.topics = [.init(name: "t", partitions: 2)]
            if withSasl { $0.users = [.init(mechanism: .plain, name: "u", password: "p")] }
        }
        var rng = SeededGenerator(seed: 99)
        let served = cluster.apiVersionsResponse().apiKeys
        #expect(served.count >= 30)
        var answered = 0
        var now = Instant.zero
        for api in served {
            let type = requestType(for: ApiKey(api.apiKey))!
            for v in api.minVersion ... api.maxVersion {
                for broker: Int32 in 1 ... 3 {
                    now = now.adding(milliseconds: 7)
                    let conn = cluster.connect(broker: broker)!
                    if let bytes = frame(type.init(), version: v, correlationId: Int32(v)) {
                        let out = cluster.receive(conn, bytes, now: now)
                        answered += out.count
                    }
                    // A valid header followed by random bytes.
                    let conn2 = cluster.connect(broker: broker)!
                    var w = ByteWriter(capacity: 64)
                    let body = (0 ..< Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    w.writeInt32(Int32(10 + body.count))
                    w.writeInt16(api.apiKey)
                    w.writeInt16(v)
                    w.writeInt32(1)
                    w.writeInt16(-1)
                    w.writeRaw(body)
                    _ = cluster.receive(conn2, w.bytes, now: now)
                    _ = cluster.tick(now: now.adding(milliseconds: 60_000))
                }
            }
        }
        #expect(answered > 100)
        // No handler built a response its version cannot carry.
        #expect(!cluster.closeLog.contains { $0.contains("internal error") }, "\(cluster.closeLog.filter { $0.contains("internal error") })")
    }
}
