import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Testing

/// Every way the outside world can be wrong ends in a specific typed error, soon, and
/// without hammering the peer. "Soon" is bounded at 10 s (5 s where a retry budget is
/// spent), far below the hang each test guards against (a 30 s request timeout, a 60 s
/// dial): CI runs the whole suite in parallel on 2 cores, and 2 s bounds failed there.
@Suite struct BadInputTests {
    /// The failure behind any retry wrapper.
    static func rootCause(_ error: KafkaClientError) -> KafkaClientError {
        if case .retriesExhausted(_, let last) = error { return rootCause(last) }
        return error
    }

    /// Runs one request and returns the typed failure and how long it took. The time is
    /// taken in the completion callback on the client's loop: a busy test process may delay
    /// the awaiting task by seconds, which is not the client's latency.
    static func failure(_ config: KafkaClientConfiguration, _ request: some KafkaRequest = MetadataRequest())
        async throws -> (KafkaClientError, Duration) {
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let clock = ContinuousClock()
        let start = clock.now
        let (result, elapsed) = await withCheckedContinuation { (c: CheckedContinuation<(Result<any KafkaResponse, KafkaClientError>, Duration), Never>) in
            client.request(any: request) { result in c.resume(returning: (result, clock.now - start)) }
        }
        await client.close()
        guard case .failure(let error) = result else {
            Issue.record("the request should have failed")
            throw RequestSucceeded()
        }
        return (error, elapsed)
    }

    struct RequestSucceeded: Error {}

    static func connectionFailure(_ error: KafkaClientError) -> ConnectionFailure? {
        if case .connectionFailed(_, let reason) = rootCause(error) { return reason }
        return nil
    }

    /// A dialer that counts its calls around plain TCP.
    static func countingDialer(_ count: NIOLockedValueBox<Int>) -> KafkaDialer {
        KafkaDialer { host, port, loop, timeout in
            count.withLockedValue { $0 += 1 }
            return KafkaDialer.tcp.dial(host, port, loop, timeout)
        }
    }

    @Test func refusedSeedFailsWithinTheRetryTimeoutAndBackoffBoundsTheDials() async throws {
        let dials = NIOLockedValueBox(0)
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: try await ScriptedPeer.closedPort())])
        // 2 s, not 1: on a loaded machine the first refused dial alone took most of a 1 s budget.
        config.retryTimeout = .seconds(2)
        config.backoff = BackoffPolicy(initial: .milliseconds(100), max: .milliseconds(100), jitter: 0)
        config.dialer = Self.countingDialer(dials)
        let (error, elapsed) = try await Self.failure(config)
        let reason = try #require(Self.connectionFailure(error), "\(error)")
        guard case .refused = reason else { Issue.record("expected refused, got \(reason)"); return }
        #expect(elapsed < .seconds(5))
        // One dial per 100 ms backoff over a 2 s budget, plus the first: a storm would be hundreds.
        let n = dials.withLockedValue { $0 }
        #expect(n >= 2 && n <= 23, "\(n) dials")
    }

    @Test func nameThatDoesNotResolveIsADNSFailure() async throws {
        var config = TestEnvironment.configuration([BrokerAddress(host: "no-such-broker.invalid", port: 9092)])
        config.maxRetries = 0
        let (error, elapsed) = try await Self.failure(config)
        let reason = try #require(Self.connectionFailure(error), "\(error)")
        guard case .dns = reason else { Issue.record("expected a DNS failure, got \(reason)"); return }
        #expect(elapsed < .seconds(5))
    }

    @Test func dialThatNeverCompletesTimesOut() async throws {
        var config = TestEnvironment.configuration([BrokerAddress(host: "192.0.2.1", port: 9092)])
        config.maxRetries = 0
        config.connectTimeout = .milliseconds(300)
        // A dial that hangs (a black-holed address); it fails much later so no promise leaks.
        config.dialer = KafkaDialer { _, _, loop, _ in
            let p = loop.makePromise(of: (any Channel).self)
            loop.scheduleTask(in: .seconds(60)) { p.fail(ChannelError.connectTimeout(.seconds(60))) }
            return p.futureResult
        }
        let (error, elapsed) = try await Self.failure(config)
        #expect(Self.rootCause(error) == .connectTimeout(broker: .seed(0)), "\(error)")
        #expect(elapsed < .seconds(10))
    }

    @Test func peerSpeakingGarbageIsAProtocolError() async throws {
        // A well-framed reply whose body answers no request we sent.
        let peer = try await ScriptedPeer(reply: [0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: peer.port)])
        config.maxRetries = 0
        let (error, elapsed) = try await Self.failure(config)
        await peer.stop()
        switch Self.rootCause(error) {
        case .protocolViolation, .malformedResponse: break
        default: Issue.record("expected a protocol error, got \(error)")
        }
        #expect(elapsed < .seconds(10))
    }

    @Test func httpServerAnnouncesAnOversizeFrame() async throws {
        // "HTTP" read as a size prefix is 1.2 GB: refused before any allocation.
        let peer = try await ScriptedPeer(reply: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: peer.port)])
        config.maxRetries = 0
        let (error, _) = try await Self.failure(config)
        await peer.stop()
        #expect(Self.rootCause(error) == .responseTooLarge(size: 0x4854_5450, max: config.maxResponseBytes), "\(error)")
    }

    @Test func responseLargerThanTheConfiguredMaximum() async throws {
        var config = TestEnvironment.configuration([try TestEnvironment.broker()])
        config.maxResponseBytes = 64
        config.maxRetries = 0
        let (error, elapsed) = try await Self.failure(config)
        guard case .responseTooLarge(let size, 64) = Self.rootCause(error) else {
            Issue.record("expected responseTooLarge, got \(error)")
            return
        }
        #expect(size > 64)
        #expect(elapsed < .seconds(10))
    }

    /// The test CA's server certificate names localhost and 127.0.0.1. Served on 127.0.0.2,
    /// it names neither the address we dial nor the name we verify: the handshake must fail.
    /// (NIOSSL also accepts a match of the dialed IP, so the stunnel proxy on 127.0.0.1
    /// cannot show a mismatch.) With the name overridden to localhost the same server passes.
    @Test(arguments: [nil, "not-the-broker.example", "localhost"])
    func certificateForAnotherNameFailsTheHandshake(serverName: String?) async throws {
        let (_, ca) = try TestEnvironment.tlsBroker()
        let dir = String(ca.dropLast("ca.crt".count))
        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(dir + "srv.crt").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: dir + "srv.key", format: .pem)))
        server.minimumTLSVersion = .tlsv12
        // Garbage after the handshake: a handshake that passes then fails as a protocol error.
        let peer = try await ScriptedPeer(reply: [0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8], host: "127.0.0.2",
                                          tls: try NIOSSLContext(configuration: server))
        let dials = NIOLockedValueBox(0)
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.2", port: peer.port)])
        config.tls = try .files(caFile: ca, serverName: serverName)
        config.dialer = Self.countingDialer(dials)
        // Retries allowed: a certificate failure must not use them.
        config.maxRetries = 5
        let (error, elapsed) = try await Self.failure(config)
        await peer.stop()
        if serverName == "localhost" {
            #expect(Self.connectionFailure(error) == nil, "the handshake should pass: \(error)")
        } else {
            // The typed reason itself, not wrapped in retriesExhausted: no second attempt.
            guard case .connectionFailed(_, .tls(.certificate, let detail)) = error else {
                Issue.record("expected a certificate failure without retries, got \(error)")
                return
            }
            #expect(detail.contains("failedToValidateHostname"), "\(detail)")
            #expect(dials.withLockedValue { $0 } == 1)
        }
        // No retry is shown by the dial count; this only bounds a hang (a loaded CI machine
        // once took 2.2 s for the handshake and the garbage answer).
        #expect(elapsed < .seconds(10))
    }

    @Test func certificateFromAnUntrustedCAFailsTheHandshake() async throws {
        let (address, _) = try TestEnvironment.tlsBroker()
        let dials = NIOLockedValueBox(0)
        var config = TestEnvironment.configuration([address])
        config.tls = KafkaTLSConfiguration()   // system roots: they do not include the test CA
        config.dialer = Self.countingDialer(dials)
        config.maxRetries = 5
        let (error, elapsed) = try await Self.failure(config)
        guard case .connectionFailed(_, .tls(.certificate, _)) = error else {
            Issue.record("expected a certificate failure without retries, got \(error)")
            return
        }
        #expect(dials.withLockedValue { $0 } == 1)
        #expect(elapsed < .seconds(10))
    }

    @Test func plaintextClientAgainstTheTLSPortFails() async throws {
        let (address, _) = try TestEnvironment.tlsBroker()
        var config = TestEnvironment.configuration([address])
        config.maxRetries = 0
        config.requestTimeoutOverhead = .seconds(2)
        let (error, elapsed) = try await Self.failure(config)
        // stunnel closes (or times out) on a non-TLS hello: never a hang, never a crash.
        switch Self.rootCause(error) {
        case .connectionClosed, .requestTimeout, .protocolViolation, .malformedResponse, .responseTooLarge: break
        case .connectionFailed(_, .closed(let why)) where why.contains("TLS listeners spoken to without TLS"): break
        default: Issue.record("unexpected \(error)")
        }
        #expect(elapsed < .seconds(10))
    }

    @Test func missingCAFileIsAConfigurationError() throws {
        #expect(throws: KafkaConfigurationError.self) {
            var config = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: "localhost", port: 9092)])
            config.tls = try .files(caFile: "/nonexistent/ca.pem")
            _ = try KafkaClient(configuration: config)
        }
    }

    @Test func brokerAddressParsing() throws {
        #expect(try BrokerAddress(parsing: "h:1") == BrokerAddress(host: "h", port: 1))
        #expect(try BrokerAddress(parsing: "h") == BrokerAddress(host: "h", port: 9092))
        #expect(try BrokerAddress(parsing: "[::1]:19092") == BrokerAddress(host: "::1", port: 19092))
        #expect(throws: KafkaConfigurationError.invalidBrokerAddress("h:x")) { try BrokerAddress(parsing: "h:x") }
        #expect(throws: KafkaConfigurationError.invalidBrokerAddress(":9092")) { try BrokerAddress(parsing: ":9092") }
    }
}
