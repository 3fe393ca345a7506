@testable import FakeCluster
import Testing

/// KIP-219 throttles from the control API: throttle_time_ms on the armed answers, the
/// connection muted for that long (its requests wait, they are not lost), nothing else.
@Suite struct ThrottleTests {
    @Test func throttledAnswerMutesItsConnectionUntilTheThrottleEnds() throws {
        var cluster = threeBrokers()
        cluster.throttle(broker: 1, apiKey: .metadata, milliseconds: 300, count: 1)
        var client = WireClient(&cluster, broker: 1)
        var other = WireClient(&cluster, broker: 1)
        let first = try client.call(MetadataRequest(), version: 12, on: &cluster)
        #expect(first.throttleTimeMs == 300)
        #expect(cluster.throttledResponse(client.connection, correlationId: 1) == 300)
        #expect(cluster.nextDeadline == Instant.zero.adding(milliseconds: 300))

        // Muted: a request arriving meanwhile is read only when the throttle ends.
        let meanwhile = client.send(MetadataRequest(), version: 12, to: &cluster, now: .zero.adding(milliseconds: 100))
        #expect(client.sent(meanwhile).isEmpty)
        // Another connection is not muted, and the count of one is spent.
        let unthrottled = try other.call(MetadataRequest(), version: 12, on: &cluster, now: .zero.adding(milliseconds: 100))
        #expect(unthrottled.throttleTimeMs == 0)
        #expect(client.sent(cluster.tick(now: .zero.adding(milliseconds: 299))).isEmpty)
        let released = client.sent(cluster.tick(now: .zero.adding(milliseconds: 300)))
        #expect(released.count == 1)
        #expect(try client.decode(MetadataResponse.self, version: 12, released[0]).throttleTimeMs == 0)
    }

    @Test func windowThrottlesEveryAnswerUntilItEndsAndOldVersionsAreLeftAlone() throws {
        var cluster = threeBrokers()
        cluster.throttle(broker: nil, milliseconds: 50, until: .zero.adding(milliseconds: 1000))
        var client = WireClient(&cluster, broker: 2)
        // Metadata v1 has no throttle_time_ms: not throttled, not muted.
        #expect(try client.call(MetadataRequest(), version: 1, on: &cluster).throttleTimeMs == 0)
        #expect(cluster.throttledResponse(client.connection, correlationId: 1) == nil)
        var t = Instant.zero
        for _ in 0 ..< 3 {
            t = t.adding(milliseconds: 100)
            #expect(try client.call(MetadataRequest(), version: 12, on: &cluster, now: t).throttleTimeMs == 50)
        }
        #expect(try client.call(MetadataRequest(), version: 12, on: &cluster, now: .zero.adding(milliseconds: 1000)).throttleTimeMs == 0)
    }

    @Test func healingClearsArmedThrottles() throws {
        var cluster = threeBrokers()
        cluster.throttle(broker: 3, milliseconds: 100, count: 5)
        cluster.clearArmedFaults()
        var client = WireClient(&cluster, broker: 3)
        #expect(try client.call(MetadataRequest(), version: 12, on: &cluster).throttleTimeMs == 0)
    }
}
