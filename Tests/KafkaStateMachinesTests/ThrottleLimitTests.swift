import Testing
@testable import KafkaStateMachines

/// A broker's throttle_time_ms is untrusted: the engine honours at most its request timeout,
/// and a request held in the queue has a deadline like one on the wire (FuzzEngine found a
/// Metadata request still pending after 300 s of virtual time behind a huge throttle).
@Suite struct ThrottleLimitTests {
    /// Int32.max ms (24 days) on a ListGroups answer at 100 ms holds the next request until
    /// 100 ms + requestTimeoutOverhead (10 s), then it is sent.
    @Test func hugeThrottleIsCappedAtTheRequestTimeout() {
        var h = Harness(Harness.config())
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = Int32.max
        h.now = .milliseconds(100)
        #expect(success(h.receive(1, respond(sent[0], throttled)), 1, as: ListGroupsResponse.self) != nil)
        #expect(decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 2)).isEmpty)
        #expect(h.engine.nextDeadline() == .milliseconds(10_100))
        #expect(decodeWrites(h.advance(to: 10_099)).isEmpty)
        #expect(decodeWrites(h.advance(to: 10_100)).map(\.apiKey) == [.listGroups])
    }

    /// A request queued during the handshake, whose ApiVersions answer (at 5 s) throttles
    /// for Int32.max ms: capped, the throttle lifts at 15 s, but the request's own deadline
    /// (queued at 0, + 10 s) passes first: it fails with a typed timeout at 10 s, and the
    /// connection, which carried nothing of it, stays open.
    @Test func queuedRequestTimesOutBehindAThrottle() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, maxRetries: 0, promise: 1)
        let hello = decodeWrites(h.opened(1))
        #expect(hello.map(\.apiKey) == [.apiVersions])
        var versions = fullApiVersions()
        versions.throttleTimeMs = Int32.max
        h.now = .milliseconds(5000)
        #expect(decodeWrites(h.receive(1, respond(hello[0], versions))).isEmpty)
        #expect(h.engine.nextDeadline() == .milliseconds(10_000))
        #expect(completions(h.advance(to: 9_999)).isEmpty)
        let out = h.advance(to: 10_000)
        #expect(decodeWrites(out).isEmpty && closes(out).isEmpty)
        guard case .requestTimeout(let key, _) = failure(out, 1) else {
            Issue.record("expected a request timeout, got \(out)")
            return
        }
        #expect(key == .metadata)
    }
}
