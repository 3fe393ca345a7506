@testable import FakeCluster
import Testing

/// A queued close (an unencodable response, say) sends what is ahead of it, closes the
/// connection once, and drops what queued behind it; it used to recurse without end.
@Suite struct ResponseQueueTests {
    @Test func aQueuedCloseSendsWhatPrecedesItAndNothingAfter() {
        var cluster = threeBrokers()
        let id = cluster.connect(broker: 1)!
        cluster.enqueue(id, .ready([1]))
        cluster.enqueue(id, .close("internal error: test"))
        cluster.enqueue(id, .ready([2]))
        var out: [FakeOutput] = []
        cluster.flush(id, into: &out)
        #expect(out == [.send(id, [1]), .close(id, reason: "internal error: test")])
        #expect(cluster.closeLog.count == 1)
        // The connection is gone: more bytes on it produce nothing.
        #expect(cluster.receive(id, [0, 0, 0, 1, 0], now: .zero).isEmpty)
    }
}
