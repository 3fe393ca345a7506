import Testing
@testable import KafkaStateMachines

@Suite struct RetryTests {
    @Test func backoffIsBoundedCappedAndReplaysFromTheSeed() {
        let policy = BackoffPolicy(initial: .milliseconds(100), max: .milliseconds(1000), jitter: 0.2)
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        var seqA: [Interval] = [], seqC: [Interval] = []
        for attempt in 0 ..< 8 {
            let d = policy.delay(attempt: attempt, using: &a)
            #expect(d == policy.delay(attempt: attempt, using: &b))
            seqA.append(d)
            seqC.append(policy.delay(attempt: attempt, using: &c))
            let base = min(100 << attempt, 1000)
            #expect(d.milliseconds >= UInt64(Double(base) * 0.8) && d.milliseconds <= UInt64(Double(base) * 1.2))
        }
        #expect(seqA != seqC)
        #expect(policy.delay(attempt: 1000, using: &a) <= .milliseconds(1200))
        #expect(BackoffPolicy(jitter: 0).delay(attempt: 2, using: &a) == .milliseconds(400))
    }

    /// Unreachable seeds: each failed dial waits out a growing backoff and moves to the next
    /// seed; when retries run out the caller gets a typed error naming the last failure.
    @Test func unreachableSeedsBackOffThenFailTyped() {
        var config = Harness.config(seeds: 2)
        config.maxRetries = 2
        var h = Harness(config)
        var dials: [(Instant, BrokerID)] = []
        dials += opens(h.request(MetadataRequest(), to: .anyBroker, promise: 1)).map { (h.now, $0.1) }
        var result: KafkaClientError?
        for connection in 1 ... 3 {
            h.engine.connectionFailed(ConnectionID(UInt64(connection)), reason: .refused("connection refused"), now: h.now)
            let after = h.drain()
            #expect(closes(after).isEmpty)
            if let e = failure(after, 1) { result = e; break }
            #expect(opens(after).isEmpty)
            guard let wake = h.engine.nextDeadline() else { Issue.record("no deadline"); return }
            h.now = wake
            h.engine.tick(now: wake)
            dials += opens(h.drain()).map { (wake, $0.1) }
        }
        #expect(dials.map(\.1) == [.seed(0), .seed(1), .seed(0)])
        let gap1 = (dials[1].0 - dials[0].0).milliseconds, gap2 = (dials[2].0 - dials[1].0).milliseconds
        #expect(gap1 >= 80 && gap1 <= 120)
        #expect(gap2 >= 160 && gap2 <= 240)
        #expect(result == .retriesExhausted(attempts: 3, last: .connectionFailed(broker: .seed(0), reason: .refused("connection refused"))))
    }

    /// The same inputs and seed give the same actions and deadlines, bit for bit.
    @Test func runsReplayFromTheSeed() {
        func run(seed: UInt64) -> [String] {
            var config = Harness.config(seeds: 3)
            config.maxRetries = 5
            var h = Harness(config, seed: seed)
            var trace: [String] = h.request(MetadataRequest(), to: .anyBroker, promise: 1).map(\.description)
            var next: UInt64 = 1
            while let wake = h.engine.nextDeadline(), next < 10 {
                h.engine.connectionFailed(ConnectionID(next), reason: .refused(""), now: h.now)
                trace += h.drain().map(\.description)
                guard let w = h.engine.nextDeadline() else { break }
                _ = wake
                h.now = w
                h.engine.tick(now: w)
                trace.append("\(w)")
                trace += h.drain().map(\.description)
                next += 1
            }
            return trace
        }
        #expect(run(seed: 9) == run(seed: 9))
        #expect(run(seed: 9) != run(seed: 10))
    }

    @Test func nonRetriableFailuresAreNotRetried() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.opened(1)
        let after = h.receive(1, [0xff, 0xff, 0xff, 0xff])
        #expect(failure(after, 1) == .protocolViolation("negative frame size -1"))
        #expect(h.engine.nextDeadline() == nil)
    }

    @Test func connectionFailureKindAndDetailRoundTrip() {
        let all: [ConnectionFailure] = [.dns("a"), .refused("b"), .timeout("c"), .tls(.certificate, "d"), .tls(.handshake, "e"),
                                        .closed("f"), .other("g")]
        for f in all { #expect(ConnectionFailure(kind: f.kind, detail: f.detail) == f) }
        #expect(Set(all.map(\.kind)).count == all.count)
        #expect(ConnectionFailure(kind: "tls", detail: "x") == nil)
    }

    /// A certificate that fails verification fails the same way on every dial: the request
    /// fails at once with the typed reason, and nothing is dialed again. Other TLS failures
    /// (a handshake cut short) and the other kinds stay retriable.
    @Test func certificateFailuresFailAtOnceOtherKindsRetry() {
        let certificate = ConnectionFailure.tls(.certificate, "CERTIFICATE_VERIFY_FAILED")
        var config = Harness.config(seeds: 2)
        config.maxRetries = 5
        var h = Harness(config)
        #expect(opens(h.request(MetadataRequest(), to: .anyBroker, promise: 1)).count == 1)
        h.engine.connectionFailed(ConnectionID(1), reason: certificate, now: h.now)
        let after = h.drain()
        #expect(failure(after, 1) == .connectionFailed(broker: .seed(0), reason: certificate))
        #expect(h.engine.nextDeadline() == nil)
        #expect(opens(h.advance(to: 10_000)).isEmpty)

        for retriable: ConnectionFailure in [.tls(.handshake, "EOF during handshake"), .dns("x"), .refused("x"), .timeout("x"),
                                             .closed("x"), .other("x")] {
            var h = Harness(config)
            _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
            h.engine.connectionFailed(ConnectionID(1), reason: retriable, now: h.now)
            #expect(failure(h.drain(), 1) == nil, "\(retriable) should be retried")
            guard let wake = h.engine.nextDeadline() else { Issue.record("no retry for \(retriable)"); continue }
            h.now = wake
            h.engine.tick(now: wake)
            #expect(opens(h.drain()).count == 1)
        }
    }
}

@Suite struct RetryStormTests {
    /// A cluster that refuses every dial: the engine gives up within the retry timeout,
    /// and backoff bounds how often it dials meanwhile.
    @Test func refusedDialsAreRateLimitedAndEndWithinTheRetryTimeout() {
        var config = Harness.config(seeds: 3)
        config.maxRetries = 1000
        config.retryTimeout = .seconds(30)
        var h = Harness(config)
        var dials = opens(h.request(MetadataRequest(), to: .anyBroker, promise: 1)).count
        var result: KafkaClientError?
        var open = opens(h.log).last!.0
        while result == nil {
            h.engine.connectionFailed(open, reason: .refused(""), now: h.now)
            let after = h.drain()
            if let e = failure(after, 1) { result = e; break }
            guard let wake = h.engine.nextDeadline() else { Issue.record("stalled"); return }
            h.now = wake
            h.engine.tick(now: wake)
            let dialed = opens(h.drain())
            dials += dialed.count
            open = dialed.last!.0
        }
        #expect(h.now <= .milliseconds(30_000))
        // 100, 200, 400, 800 ms, then about one dial a second (±20 %).
        #expect(dials >= 20 && dials <= 40)
        guard case .retriesExhausted(_, .connectionFailed) = result else {
            Issue.record("unexpected \(String(describing: result))")
            return
        }
    }
}
