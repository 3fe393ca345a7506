import Testing
@testable import KafkaStateMachines

private func saslConfig(_ sasl: SaslConfig) -> EngineConfig {
    var c = Harness.config()
    c.sasl = sasl
    return c
}

private func authenticateResponse(_ bytes: [UInt8] = [], error: KafkaErrorCode = .noError, message: String? = nil, lifetimeMs: Int64 = 0) -> SaslAuthenticateResponse {
    var r = SaslAuthenticateResponse()
    r.authBytes = bytes
    r.errorCode = error.rawValue
    r.errorMessage = message
    r.sessionLifetimeMs = lifetimeMs
    return r
}

private func handshakeResponse(_ error: KafkaErrorCode = .noError, mechanisms: [String] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) -> SaslHandshakeResponse {
    var r = SaslHandshakeResponse()
    r.errorCode = error.rawValue
    r.mechanisms = mechanisms
    return r
}

private func writes(_ actions: [Action]) -> [[UInt8]] {
    actions.compactMap { if case .write(_, let b) = $0 { return b.bytes } else { return nil } }
}

@Suite struct SaslEngineTests {
    /// ApiVersions, SaslHandshake v1, SaslAuthenticate with PLAIN's one message, then the
    /// queued request.
    @Test func plainOverSaslAuthenticate() {
        var h = Harness(saslConfig(.plain(username: "alice", password: "pw")))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hs = decodeWrites(h.handshake(1))
        #expect(hs.map(\.apiKey) == [.saslHandshake] && hs[0].version == 1)
        #expect((hs[0].body as! SaslHandshakeRequest).mechanism == "PLAIN")
        let auth = decodeWrites(h.receive(1, respond(hs[0], handshakeResponse())))
        #expect(auth.map(\.apiKey) == [.saslAuthenticate] && auth[0].version == 2)
        #expect((auth[0].body as! SaslAuthenticateRequest).authBytes == Array("\0alice\0pw".utf8))
        let after = decodeWrites(h.receive(1, respond(auth[0], authenticateResponse())))
        #expect(after.map(\.apiKey) == [.metadata])
    }

    @Test func wrongCredentialsFailTypedWithTheBrokersMessageAndNoRetry() {
        var h = Harness(saslConfig(.plain(username: "alice", password: "wrong")))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hs = decodeWrites(h.handshake(1))
        let auth = decodeWrites(h.receive(1, respond(hs[0], handshakeResponse())))
        let after = h.receive(1, respond(auth[0], authenticateResponse(error: .saslAuthenticationFailed,
                                                                        message: "Authentication failed: Invalid username or password")))
        #expect(failure(after, 1) == .saslAuthenticationFailed(mechanism: "PLAIN", message: "Authentication failed: Invalid username or password"))
        #expect(closes(after) == [ConnectionID(1)])
        #expect(h.engine.nextDeadline() == nil)
    }

    @Test func mechanismNotEnabled() {
        var h = Harness(saslConfig(.scram(.sha256, username: "a", password: "b")))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hs = decodeWrites(h.handshake(1))
        let after = h.receive(1, respond(hs[0], handshakeResponse(.unsupportedSaslMechanism, mechanisms: ["GSSAPI"])))
        #expect(failure(after, 1) == .saslMechanismUnsupported(mechanism: "SCRAM-SHA-256", enabled: ["GSSAPI"]))
    }

    /// A broker without SaslAuthenticate (before 1.0) gets SaslHandshake v0 and then raw
    /// size-prefixed tokens with no request header.
    @Test func legacyV0FramingForPlain() {
        var h = Harness(saslConfig(.plain(username: "u", password: "p")))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        var old = ApiVersionsResponse()
        old.apiKeys = KafkaRelease.named("0.10.2")!.brokerVersions.ranges.map { e in
            var x = ApiVersionsResponse.ApiVersion()
            x.apiKey = e.key.rawValue
            x.maxVersion = e.range.upperBound
            return x
        }
        let hs = decodeWrites(h.handshake(1, versions: old))
        #expect(hs.map(\.apiKey) == [.saslHandshake] && hs[0].version == 0)
        let token = h.receive(1, respond(hs[0], handshakeResponse()))
        #expect(writes(token) == [[0, 0, 0, 4] + Array("\0u\0p".utf8)])
        // The server's empty token completes PLAIN.
        let after = decodeWrites(h.receive(1, [0, 0, 0, 0]))
        #expect(after.map(\.apiKey) == [.metadata] && after[0].version == 2)
    }

    @Test func legacyServerClosingMeansBadCredentials() {
        var h = Harness(saslConfig(.plain(username: "u", password: "p")))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        var old = ApiVersionsResponse()
        old.apiKeys = KafkaRelease.named("0.10.0")!.brokerVersions.ranges.map { e in
            var x = ApiVersionsResponse.ApiVersion()
            x.apiKey = e.key.rawValue
            x.maxVersion = e.range.upperBound
            return x
        }
        let hs = decodeWrites(h.handshake(1, versions: old))
        _ = h.receive(1, respond(hs[0], handshakeResponse()))
        h.engine.connectionClosed(ConnectionID(1), now: h.now)
        let after = h.drain()
        #expect(failure(after, 1) == .saslAuthenticationFailed(mechanism: "PLAIN", message: "connection closed during authentication"))
    }

    @Test(arguments: [ScramAlgorithm.sha256, .sha512])
    func scramExchangeThroughTheEngine(algorithm: ScramAlgorithm) {
        var h = Harness(saslConfig(.scram(algorithm, username: "bob", password: "hunter2")))
        var server = TestScramServer(algorithm: algorithm, password: "hunter2")
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hs = decodeWrites(h.handshake(1))
        #expect((hs[0].body as! SaslHandshakeRequest).mechanism == algorithm.mechanismName)
        let first = decodeWrites(h.receive(1, respond(hs[0], handshakeResponse())))
        let clientFirst = String(decoding: (first[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self)
        #expect(clientFirst.hasPrefix("n,,n=bob,r="))
        let final = decodeWrites(h.receive(1, respond(first[0], authenticateResponse(Array(server.first(clientFirst).utf8)))))
        let clientFinal = String(decoding: (final[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self)
        let serverFinal = server.final(clientFinal)
        #expect(serverFinal.hasPrefix("v="))
        let after = decodeWrites(h.receive(1, respond(final[0], authenticateResponse(Array(serverFinal.utf8)))))
        #expect(after.map(\.apiKey) == [.metadata])
    }

    private static let noProvider = SaslConfig.oauthBearer { throw OAuthTokenFailure("the engine must not call the provider") }

    private func tokenRequests(_ actions: [Action]) -> [ConnectionID] {
        actions.compactMap { if case .fetchOAuthToken(let c) = $0 { return c } else { return nil } }
    }

    /// The engine never calls the (async) provider: it asks the driver, writes nothing until
    /// the answer comes, and a failed answer fails the connection's requests, typed.
    @Test func oauthTokenProviderFailureIsTyped() {
        var h = Harness(saslConfig(Self.noProvider))
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let asked = h.handshake(1)
        #expect(tokenRequests(asked) == [ConnectionID(1)])
        #expect(writes(asked).isEmpty, "nothing is sent before the token arrives")
        h.engine.handle(.oauthToken(ConnectionID(1), .failure(OAuthTokenFailure("NoToken()"))), now: h.now)
        let after = h.drain()
        #expect(failure(after, 1) == .saslAuthenticationFailed(mechanism: "OAUTHBEARER", message: "token provider failed: NoToken()"))
        #expect(closes(after) == [ConnectionID(1)])
    }

    /// A provider that never answers fails the connection at the connect timeout; its late
    /// answer is ignored.
    @Test func oauthTokenProviderTimeoutFailsTheConnection() {
        var config = saslConfig(Self.noProvider)
        config.connectTimeout = .seconds(3)
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let asked = h.handshake(1)
        #expect(tokenRequests(asked) == [ConnectionID(1)])
        guard let deadline = h.engine.nextDeadline() else { Issue.record("no deadline while waiting for the token"); return }
        #expect(deadline <= h.now + .seconds(3))
        h.now = h.now + .seconds(3)
        h.engine.tick(now: h.now)
        let after = h.drain()
        #expect(failure(after, 1) == .saslAuthenticationFailed(mechanism: "OAUTHBEARER",
                                                                message: "the token provider did not answer within the connect timeout"))
        h.engine.handle(.oauthToken(ConnectionID(1), .success(OAuthBearerToken(token: "late"))), now: h.now)
        #expect(writes(h.drain()).isEmpty)
    }

    /// KIP-368: before the session lifetime ends the connection re-authenticates with a fresh
    /// token; a request in flight meanwhile still completes, and one issued meanwhile waits
    /// for the new session.
    @Test func reauthenticatesBeforeSessionExpiryWithoutFailingInFlight() {
        var config = saslConfig(Self.noProvider)
        config.connectionIdleTimeout = .seconds(1000)
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        #expect(tokenRequests(h.handshake(1)) == [ConnectionID(1)])
        h.engine.handle(.oauthToken(ConnectionID(1), .success(OAuthBearerToken(token: "first", extensions: ["b": "2", "a": "1"]))), now: h.now)
        let hs = decodeWrites(h.drain())
        #expect(hs.map(\.apiKey) == [.saslHandshake])
        let auth = decodeWrites(h.receive(1, respond(hs[0], handshakeResponse(mechanisms: ["OAUTHBEARER"]))))
        #expect(String(decoding: (auth[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self) == "n,,\u{1}auth=Bearer first\u{1}a=1\u{1}b=2\u{1}\u{1}")
        let first = decodeWrites(h.receive(1, respond(auth[0], authenticateResponse(lifetimeMs: 10_000))))
        _ = h.receive(1, respond(first[0], metadataResponse(brokers: [])))

        h.now = .milliseconds(8000)
        let inFlight = decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 2))
        #expect(inFlight.map(\.apiKey) == [.listGroups])
        guard let reauthAt = h.engine.nextDeadline() else { Issue.record("no re-authentication scheduled"); return }
        #expect(reauthAt >= .milliseconds(8500) && reauthAt <= .milliseconds(9500))
        h.now = reauthAt
        h.engine.tick(now: reauthAt)
        #expect(tokenRequests(h.drain()) == [ConnectionID(1)])

        // Issued while the new token is fetched: held back.
        #expect(decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 3)).isEmpty)
        // The earlier request's answer arrives first and completes normally.
        #expect(success(h.receive(1, respond(inFlight[0], ListGroupsResponse())), 2, as: ListGroupsResponse.self) != nil)
        h.engine.handle(.oauthToken(ConnectionID(1), .success(OAuthBearerToken(token: "second"))), now: h.now)
        let rehs = decodeWrites(h.drain())
        #expect(rehs.map(\.apiKey) == [.saslHandshake] && rehs[0].version == 1)
        let reauth = decodeWrites(h.receive(1, respond(rehs[0], handshakeResponse(mechanisms: ["OAUTHBEARER"]))))
        let token = String(decoding: (reauth[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self)
        #expect(token.contains("auth=Bearer second"))
        let released = decodeWrites(h.receive(1, respond(reauth[0], authenticateResponse(lifetimeMs: 10_000))))
        #expect(released.map(\.apiKey) == [.listGroups])
        #expect(closes(h.log).isEmpty)
    }

    /// Runs one SCRAM exchange on connection `c` (its ApiVersions already answered and its
    /// SaslHandshake request in `hs`); returns what the connection wrote after it.
    private func scramExchange(_ h: inout Harness, _ c: UInt64, _ hs: SeenRequest, server: inout TestScramServer,
                               lifetimeMs: Int64 = 0) -> [SeenRequest] {
        let first = decodeWrites(h.receive(c, respond(hs, handshakeResponse())))
        let clientFirst = String(decoding: (first[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self)
        let final = decodeWrites(h.receive(c, respond(first[0], authenticateResponse(Array(server.first(clientFirst).utf8)))))
        let serverFinal = server.final(String(decoding: (final[0].body as! SaslAuthenticateRequest).authBytes, as: UTF8.self))
        #expect(serverFinal.hasPrefix("v="), "the client's proof should verify: \(serverFinal)")
        return decodeWrites(h.receive(c, respond(final[0], authenticateResponse(Array(serverFinal.utf8), lifetimeMs: lifetimeMs))))
    }

    /// SCRAM's salted password is derived once per (mechanism, user, salt, iterations):
    /// a re-authentication and a second connection reuse it (and still prove the password);
    /// a server that changes the salt gets a fresh derivation.
    @Test func scramSaltedPasswordIsDerivedOncePerSalt() {
        var config = saslConfig(.scram(.sha256, username: "bob", password: "hunter2"))
        config.connectionIdleTimeout = .seconds(1000)
        var h = Harness(config)
        let derivations = Counter()
        h.engine.pool.onSaltedPasswordDerived = { derivations.value += 1 }
        var server = TestScramServer(algorithm: .sha256, password: "hunter2")
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hs1 = decodeWrites(h.handshake(1))
        let meta = scramExchange(&h, 1, hs1[0], server: &server, lifetimeMs: 10_000)
        #expect(meta.map(\.apiKey) == [.metadata])
        #expect(derivations.value == 1)
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [])))

        // KIP-368 re-authentication on the same connection.
        guard let reauthAt = h.engine.nextDeadline() else { Issue.record("no re-authentication scheduled"); return }
        h.now = reauthAt
        h.engine.tick(now: reauthAt)
        let rehs = decodeWrites(h.drain())
        #expect(rehs.map(\.apiKey) == [.saslHandshake])
        _ = scramExchange(&h, 1, rehs[0], server: &server)
        #expect(derivations.value == 1)

        // A second connection (a produce connection to the same seed).
        var produce = ProduceRequest()
        produce.acks = 1
        produce.timeoutMs = 1000
        #expect(opens(h.request(produce, to: .anyBroker, promise: 2)).map(\.0) == [ConnectionID(2)])
        let hs2 = decodeWrites(h.handshake(2))
        #expect(scramExchange(&h, 2, hs2[0], server: &server).map(\.apiKey) == [.produce])
        #expect(derivations.value == 1)

        // A new salt (the user's credentials were reset): derived again.
        server.salt = Array("fresh-salt".utf8)
        _ = h.request(JoinGroupRequest(), to: .anyBroker, promise: 3)
        let hs3 = decodeWrites(h.handshake(3))
        #expect(scramExchange(&h, 3, hs3[0], server: &server).map(\.apiKey) == [.joinGroup])
        #expect(derivations.value == 2)
        #expect(h.engine.saltedPasswords.count == 2)
    }

    @Test func saltedPasswordCacheIsBounded() {
        var cache = ScramSaltedPasswords()
        for i in 0 ..< ScramSaltedPasswords.capacity + 5 {
            let key = ScramSaltedPasswords.Key(algorithm: .sha256, username: "u", salt: [UInt8(i)], iterations: 4096)
            cache.remember(.init(key: key, saltedPassword: [UInt8(i)]))
        }
        #expect(cache.count == ScramSaltedPasswords.capacity)
        #expect(cache.lookup(.init(algorithm: .sha256, username: "u", salt: [0], iterations: 4096)) == nil)
        #expect(cache.lookup(.init(algorithm: .sha256, username: "u", salt: [12], iterations: 4096)) == [12])
        #expect(cache.lookup(.init(algorithm: .sha512, username: "u", salt: [12], iterations: 4096)) == nil)
    }
}

/// Counts what a test seam reports.
final class Counter {
    var value = 0
}
