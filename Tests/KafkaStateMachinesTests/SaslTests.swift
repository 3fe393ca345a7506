import KafkaCrypto
import Testing
@testable import KafkaStateMachines

private func text(_ step: SaslStep) -> String? {
    if case .send(let b) = step { return String(decoding: b, as: UTF8.self) }
    return nil
}

/// The server side of SCRAM, written from RFC 5802 §3 for the tests: it checks the client's
/// proof and produces the server signature.
struct TestScramServer {
    var algorithm: ScramAlgorithm
    var password: String
    var salt: [UInt8] = Array("salty-salt".utf8)
    var iterations = 4096
    var serverNonce = "srvNonce123"
    var clientFirstBare = ""
    var serverFirst = ""

    mutating func first(_ clientFirst: String) -> String {
        clientFirstBare = String(clientFirst.dropFirst(3))
        let clientNonce = clientFirstBare.split(separator: ",").first { $0.hasPrefix("r=") }!.dropFirst(2)
        serverFirst = "r=\(clientNonce)\(serverNonce),s=\(Base64.encode(salt)),i=\(iterations)"
        return serverFirst
    }

    /// The server-final message, or an `e=` error when the proof is wrong.
    func final(_ clientFinal: String) -> String {
        let parts = clientFinal.split(separator: ",")
        let withoutProof = parts.filter { !$0.hasPrefix("p=") }.joined(separator: ",")
        let proof = Base64.decode(String(parts.first { $0.hasPrefix("p=") }!.dropFirst(2)))!
        let auth = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let salted = algorithm.hi(Array(password.utf8), salt: salt, iterations: iterations)
        let storedKey = algorithm.hash(algorithm.hmac(Array("Client Key".utf8), key: salted))
        let signature = algorithm.hmac(auth, key: storedKey)
        let clientKey = zip(proof, signature).map { $0 ^ $1 }
        guard algorithm.hash(clientKey) == storedKey else { return "e=invalid-proof" }
        let serverKey = algorithm.hmac(Array("Server Key".utf8), key: salted)
        return "v=\(Base64.encode(algorithm.hmac(auth, key: serverKey)))"
    }
}

@Suite struct SaslTests {
    /// RFC 7677 §3, with the client nonce injected.
    @Test func scramSha256RFC7677Vector() throws {
        var s = ScramSession(algorithm: .sha256, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(text(try s.step(nil)) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        #expect(text(try s.step(Array(serverFirst.utf8)))
            == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        #expect(try s.step(Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)) == .done)
    }

    @Test func scramRejectsForgedServerSignature() throws {
        var s = ScramSession(algorithm: .sha256, username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try s.step(nil)
        _ = try s.step(Array("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        #expect(throws: KafkaClientError.saslProtocolError(mechanism: "SCRAM-SHA-256", reason: "server signature does not verify")) {
            try s.step(Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
        }
    }

    @Test func scramRejectsNonceNotExtendingOurs() throws {
        var s = ScramSession(algorithm: .sha512, username: "u", password: "p", clientNonce: "abc")
        _ = try s.step(nil)
        #expect(throws: KafkaClientError.self) { try s.step(Array("r=xyz123,s=c2FsdA==,i=4096".utf8)) }
    }

    @Test func scramRefusesAbsurdIterationCounts() throws {
        var s = ScramSession(algorithm: .sha256, username: "u", password: "p", clientNonce: "abc")
        _ = try s.step(nil)
        #expect(throws: KafkaClientError.self) { try s.step(Array("r=abcdef,s=c2FsdA==,i=999999999".utf8)) }
    }

    @Test func scramServerErrorIsAnAuthenticationFailure() throws {
        var s = ScramSession(algorithm: .sha256, username: "u", password: "p", clientNonce: "abc")
        _ = try s.step(nil)
        #expect(throws: KafkaClientError.saslAuthenticationFailed(mechanism: "SCRAM-SHA-256", message: "unknown-user")) {
            try s.step(Array("e=unknown-user".utf8))
        }
    }

    @Test(arguments: [ScramAlgorithm.sha256, .sha512])
    func scramAgainstTestServer(algorithm: ScramAlgorithm) throws {
        var server = TestScramServer(algorithm: algorithm, password: "s3cret")
        var s = ScramSession(algorithm: algorithm, username: "al,ice=", password: "s3cret", clientNonce: "fixedNonce")
        let first = text(try s.step(nil))!
        #expect(first == "n,,n=al=2Cice=3D,r=fixedNonce")
        let final = text(try s.step(Array(server.first(first).utf8)))!
        let serverFinal = server.final(final)
        #expect(serverFinal.hasPrefix("v="))
        #expect(try s.step(Array(serverFinal.utf8)) == .done)
    }

    /// KIP-48: a token login is SCRAM with the token id as user, the HMAC in base64 as the
    /// password, and `tokenauth=true` after the nonce in the client-first message (inside
    /// the AuthMessage both sides sign, so the server's proof check covers it).
    @Test(arguments: [ScramAlgorithm.sha256, .sha512])
    func delegationTokenLoginSendsTheExtension(algorithm: ScramAlgorithm) throws {
        let hmac: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x01]
        var server = TestScramServer(algorithm: algorithm, password: Base64.encode(hmac))
        let config = SaslConfig.delegationToken(algorithm, tokenId: "tok-1", hmac: hmac)
        #expect(config.mechanismName == algorithm.mechanismName)
        var s = try #require(config.makeSession(nonce: "fixedNonce"))
        let first = text(try s.step(nil))!
        #expect(first == "n,,n=tok-1,r=fixedNonce,tokenauth=true")
        let final = text(try s.step(Array(server.first(first).utf8)))!
        let serverFinal = server.final(final)
        #expect(serverFinal.hasPrefix("v="))
        #expect(try s.step(Array(serverFinal.utf8)) == .done)
        // The same id with another HMAC does not prove itself.
        var wrong = try #require(SaslConfig.delegationToken(algorithm, tokenId: "tok-1", hmac: [1]).makeSession(nonce: "n1"))
        var server2 = TestScramServer(algorithm: algorithm, password: Base64.encode(hmac))
        let wrongFirst = text(try wrong.step(nil))!
        let wrongFinal = text(try wrong.step(Array(server2.first(wrongFirst).utf8)))!
        #expect(server2.final(wrongFinal) == "e=invalid-proof")
    }

    @Test func scramWrongPasswordFailsAtTheServer() throws {
        var server = TestScramServer(algorithm: .sha512, password: "right")
        var s = ScramSession(algorithm: .sha512, username: "bob", password: "wrong", clientNonce: "n0")
        let first = text(try s.step(nil))!
        let final = text(try s.step(Array(server.first(first).utf8)))!
        #expect(server.final(final) == "e=invalid-proof")
    }

    @Test func plainAndOAuthMessages() throws {
        var plain = SaslConfig.plain(username: "u", password: "p").makeSessionForTest()
        #expect(try plain.step(nil) == .send(Array("\0u\0p".utf8)))
        #expect(try plain.step([]) == .done)

        let token = OAuthBearerToken(token: "tok", extensions: ["b": "2", "a": "1"])
        var oauth: any SaslSession = OAuthBearerSession(token: token)
        #expect(try oauth.step(nil) == .send(Array("n,,\u{1}auth=Bearer tok\u{1}a=1\u{1}b=2\u{1}\u{1}".utf8)))
        #expect(try oauth.step([]) == .done)

        var rejected: any SaslSession = OAuthBearerSession(token: token)
        _ = try rejected.step(nil)
        #expect(throws: KafkaClientError.saslAuthenticationFailed(mechanism: "OAUTHBEARER", message: "{\"status\":\"invalid_token\"}")) {
            try rejected.step(Array("{\"status\":\"invalid_token\"}".utf8))
        }
    }
}

extension SaslConfig {
    func makeSessionForTest() -> any SaslSession { makeSession(nonce: "nonce")! }
}
