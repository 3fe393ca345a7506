import FakeCluster
import KafkaProtocol

/// A synchronous connection straight into one broker of the fake cluster, outside the
/// simulated network and the engine: for checkers reading logs back and for writers
/// putting data in (transactions) as a test harness would through a control API.
struct DirectConnection {
    let id: FakeConnectionID
    var correlation: Int32 = 0

    /// Nil when the broker is stopped or cut off.
    init?(broker: Int32, cluster: inout FakeCluster) {
        guard cluster.isReachable(broker: broker), let c = cluster.connect(broker: broker) else { return nil }
        id = c
    }

    func close(_ cluster: inout FakeCluster) { cluster.disconnect(id) }

    /// Sends `request` and returns the response the broker answers at once (nil if it holds
    /// the request back or answers something else).
    mutating func call<Req: KafkaRequest>(_ request: Req, version: Int16, cluster: inout FakeCluster, now: UInt64) -> Req.Response? {
        correlation += 1
        guard let frame = try? encodeRequestFrame(request, version: version, correlationId: correlation, clientId: "sim-direct") else { return nil }
        for o in cluster.receive(id, frame, now: Instant(nanoseconds: now)) {
            if case .send(_, let bytes) = o, let parsed = try? parseResponse(for: Req.Response.self, version: version, frame: Array(bytes.dropFirst(4))) {
                return parsed.response
            }
        }
        return nil
    }
}
