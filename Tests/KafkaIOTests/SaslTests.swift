import FakeCluster
import FakeClusterTCP
import KafkaIO
import NIOPosix
import Testing

/// SASL through the driver, against FakeCluster's TCP listener (Tansu's SASL cannot log in).
/// SCRAM's key derivation runs on the engine's loop (milliseconds with swift-crypto; it took
/// hundreds with the hand-written code this replaced), so these clients get a loop of their
/// own rather than hold up the shared one the other tests' clients use.
@Suite(.serialized) struct SaslTests {
    static let mechanisms: [FakeClusterConfig.SaslMechanism] = [.plain, .scramSha256, .scramSha512, .oauthBearer]

    static func cluster() throws -> FakeClusterServer {
        let users = mechanisms.map { FakeClusterConfig.User(mechanism: $0, name: "alice", password: "s3cret") }
        return try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: users))
    }

    static func sasl(_ mechanism: FakeClusterConfig.SaslMechanism, password: String) -> SaslConfig {
        switch mechanism {
        case .plain: return .plain(username: "alice", password: password)
        case .scramSha256: return .scram(.sha256, username: "alice", password: password)
        case .scramSha512: return .scram(.sha512, username: "alice", password: password)
        case .oauthBearer:
            // Asynchronous, as a real token fetch is: it suspends before answering.
            return .oauthBearer {
                try await Task.sleep(for: .milliseconds(50))
                return OAuthBearerToken(token: password, extensions: ["traceId": "t-1"])
            }
        }
    }

    /// The outcome and its latency, timed on the client's loop (see BadInputTests.failure).
    static func metadata(_ server: FakeClusterServer, _ sasl: SaslConfig) async -> (Result<any KafkaResponse, KafkaClientError>, Duration) {
        let broker = server.brokers[0]
        var config = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        config.sasl = sasl
        config.maxRetries = 0
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        config.eventLoopGroup = group
        defer { group.shutdownGracefully { _ in } }
        do {
            let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = await withCheckedContinuation { (c: CheckedContinuation<(Result<any KafkaResponse, KafkaClientError>, Duration), Never>) in
                client.request(any: MetadataRequest()) { c.resume(returning: ($0, clock.now - start)) }
            }
            await client.close()
            return outcome
        } catch {
            return (.failure(.protocolViolation("configuration: \(error)")), .zero)
        }
    }

    @Test(arguments: mechanisms)
    func rightCredentialsLogIn(_ mechanism: FakeClusterConfig.SaslMechanism) async throws {
        let server = try Self.cluster()
        defer { try? server.shutdown() }
        let response = try #require(try await Self.metadata(server, Self.sasl(mechanism, password: "s3cret")).0.get() as? MetadataResponse)
        #expect(response.brokers.map(\.nodeId) == [1])
    }

    @Test(arguments: mechanisms)
    func wrongPasswordIsAnAuthenticationFailure(_ mechanism: FakeClusterConfig.SaslMechanism) async throws {
        let server = try Self.cluster()
        defer { try? server.shutdown() }
        let (result, elapsed) = await Self.metadata(server, Self.sasl(mechanism, password: "wrong"))
        guard case .failure(let error) = result, case .saslAuthenticationFailed(let name, _) = BadInputTests.rootCause(error) else {
            Issue.record("expected saslAuthenticationFailed, got \(result)")
            return
        }
        #expect(name == mechanism.rawValue)
        // Generous: a failed login is not retried, so it ends well inside this on a loaded machine.
        #expect(elapsed < .seconds(10))
    }

    struct NoToken: Error {}

    /// The async provider's error fails the login, typed and named, without retrying forever.
    @Test func oauthProviderErrorIsAnAuthenticationFailure() async throws {
        let server = try Self.cluster()
        defer { try? server.shutdown() }
        let (result, _) = await Self.metadata(server, .oauthBearer { throw NoToken() })
        guard case .failure(let error) = result, case .saslAuthenticationFailed(let name, let message) = BadInputTests.rootCause(error) else {
            Issue.record("expected saslAuthenticationFailed, got \(result)")
            return
        }
        #expect(name == "OAUTHBEARER")
        #expect(message == "token provider failed: NoToken()")
    }
}
