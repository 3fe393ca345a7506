@testable import FakeCluster
import KafkaCrypto
import Testing

/// A delegation token logs in with SCRAM as Kafka lets it: the token id as user name, the
/// HMAC in base64 as password, and the `tokenauth=true` extension; the session is the
/// owner's, and may not ask for tokens itself. Refused once the token is expired.
@Suite struct DelegationTokenWireTests {
    static func plainLogin(_ cluster: inout FakeCluster, _ user: String) throws -> WireClient {
        var c = WireClient(&cluster, broker: 1)
        var hs = SaslHandshakeRequest()
        hs.mechanism = "PLAIN"
        #expect(try c.call(hs, version: 1, on: &cluster).errorCode == 0)
        var a = SaslAuthenticateRequest()
        a.authBytes = Array("\0\(user)\0pw".utf8)
        #expect(try c.call(a, version: 2, on: &cluster).errorCode == 0)
        return c
    }

    /// A SCRAM-SHA-512 login; returns the connection and the final answer's error code.
    static func scramLogin(_ cluster: inout FakeCluster, user: String, password: String, tokenAuth: Bool,
                           now: Instant = .zero) throws -> (WireClient, Int16) {
        var c = WireClient(&cluster, broker: 1)
        var hs = SaslHandshakeRequest()
        hs.mechanism = "SCRAM-SHA-512"
        #expect(try c.call(hs, version: 1, on: &cluster, now: now).errorCode == 0)
        let clientFirstBare = "n=\(user),r=abcdefghijklmnop" + (tokenAuth ? ",tokenauth=true" : "")
        var a1 = SaslAuthenticateRequest()
        a1.authBytes = Array("n,,\(clientFirstBare)".utf8)
        let serverFirst = String(decoding: try c.call(a1, version: 2, on: &cluster, now: now).authBytes, as: UTF8.self)
        let attrs = FakeCluster.scramAttributes(serverFirst)
        let salt = try #require(Base64.decode(attrs["s"]!))
        let salted = Digest.sha512.pbkdf2(password: Array(password.utf8), salt: salt, iterations: Int(attrs["i"]!)!)
        let clientKey = Digest.sha512.hmac(key: salted, Array("Client Key".utf8))
        let withoutProof = "c=biws,r=\(attrs["r"]!)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let signature = Digest.sha512.hmac(key: Digest.sha512.hash(clientKey), authMessage)
        var a2 = SaslAuthenticateRequest()
        a2.authBytes = Array("\(withoutProof),p=\(Base64.encode(zip(clientKey, signature).map { $0 ^ $1 }))".utf8)
        return (c, try c.call(a2, version: 2, on: &cluster, now: now).errorCode)
    }

    @Test func aTokenLogsInWithScramUntilItExpires() throws {
        var cluster = threeBrokers { $0.users = [.init(mechanism: .plain, name: "alice", password: "pw")] }
        var alice = try Self.plainLogin(&cluster, "alice")
        let token = try alice.call(CreateDelegationTokenRequest(), version: 3, on: &cluster)
        #expect(token.errorCode == 0)
        let password = Base64.encode(token.hmac)

        var (c, code) = try Self.scramLogin(&cluster, user: token.tokenId, password: password, tokenAuth: true)
        #expect(code == 0)
        #expect(try c.call(MetadataRequest(), version: 9, on: &cluster).brokers.count == 3)
        // A token session may not ask for tokens (nor describe them).
        #expect(try c.call(CreateDelegationTokenRequest(), version: 3, on: &cluster).errorCode == KafkaErrorCode.delegationTokenRequestNotAllowed.rawValue)
        #expect(try c.call(DescribeDelegationTokenRequest(), version: 3, on: &cluster).errorCode == KafkaErrorCode.delegationTokenRequestNotAllowed.rawValue)

        // The wrong password, or no tokenauth extension, is refused.
        (_, code) = try Self.scramLogin(&cluster, user: token.tokenId, password: password + "x", tokenAuth: true)
        #expect(code == KafkaErrorCode.saslAuthenticationFailed.rawValue)
        (_, code) = try Self.scramLogin(&cluster, user: token.tokenId, password: password, tokenAuth: false)
        #expect(code == KafkaErrorCode.saslAuthenticationFailed.rawValue)

        // Past its expiry the token no longer logs in.
        var expire = ExpireDelegationTokenRequest()
        expire.hmac = token.hmac
        expire.expiryTimePeriodMs = 1_000
        #expect(try alice.call(expire, version: 2, on: &cluster).errorCode == 0)
        (_, code) = try Self.scramLogin(&cluster, user: token.tokenId, password: password, tokenAuth: true, now: .milliseconds(999))
        #expect(code == 0)
        (_, code) = try Self.scramLogin(&cluster, user: token.tokenId, password: password, tokenAuth: true, now: .milliseconds(1_001))
        #expect(code == KafkaErrorCode.saslAuthenticationFailed.rawValue)
    }
}
