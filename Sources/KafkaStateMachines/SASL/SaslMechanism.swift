import KafkaCrypto

/// SASL configuration: which mechanism and its credentials.
public enum SaslConfig: Sendable {
    case plain(username: String, password: String, authzid: String = "")
    case scram(ScramAlgorithm, username: String, password: String)
    /// A delegation token login (KIP-48): SCRAM with the token id as the user name, the
    /// token's HMAC (base64) as the password and the `tokenauth=true` extension, so the
    /// broker checks them against its tokens and acts as the token's owner.
    case delegationToken(ScramAlgorithm, tokenId: String, hmac: [UInt8])
    /// The provider is awaited at every authentication and re-authentication (a token fetch
    /// is usually an HTTP call). The engine never calls it: a connection that needs a token
    /// emits `Action.fetchOAuthToken`, the driver awaits the provider off the engine and
    /// feeds its answer back as `EngineInput.oauthToken` (so a recording replays the answer).
    /// A provider that does not answer within the connect timeout fails the connection.
    case oauthBearer(tokenProvider: @Sendable () async throws -> OAuthBearerToken)

    public var mechanismName: String {
        switch self {
        case .plain: return "PLAIN"
        case .scram(let a, _, _), .delegationToken(let a, _, _): return a.mechanismName
        case .oauthBearer: return "OAUTHBEARER"
        }
    }

    /// A fresh exchange; `nonce` feeds SCRAM's client nonce (from the engine's generator),
    /// `known` the salted passwords SCRAM need not derive again. Nil for OAUTHBEARER: its
    /// session starts from a token the driver fetches (`OAuthBearerSession(token:)`).
    func makeSession(nonce: String, known: ScramSaltedPasswords = ScramSaltedPasswords()) -> (any SaslSession)? {
        switch self {
        case .plain(let u, let p, let z): return PlainSession(username: u, password: p, authzid: z)
        case .scram(let a, let u, let p): return ScramSession(algorithm: a, username: u, password: p, clientNonce: nonce, known: known)
        case .delegationToken(let a, let id, let hmac):
            return ScramSession(algorithm: a, username: id, password: Base64.encode(hmac), clientNonce: nonce, known: known,
                                extensions: ScramSession.tokenExtensions)
        case .oauthBearer: return nil
        }
    }
}

/// What a SASL exchange does next.
package enum SaslStep: Equatable, Sendable {
    /// Send these bytes to the server and wait for its answer.
    case send([UInt8])
    /// The exchange succeeded.
    case done
}

/// One authentication exchange, driven by the server's messages. `step(nil)` starts it.
package protocol SaslSession: Sendable {
    var mechanism: String { get }
    mutating func step(_ serverMessage: [UInt8]?) throws(KafkaClientError) -> SaslStep
}

/// PLAIN (RFC 4616): one message, authzid NUL username NUL password.
struct PlainSession: SaslSession {
    let username: String, password: String, authzid: String
    var sent = false
    var mechanism: String { "PLAIN" }

    init(username: String, password: String, authzid: String) {
        self.username = username
        self.password = password
        self.authzid = authzid
    }

    mutating func step(_ serverMessage: [UInt8]?) throws(KafkaClientError) -> SaslStep {
        if sent { return .done }
        sent = true
        return .send(Array(authzid.utf8) + [0] + Array(username.utf8) + [0] + Array(password.utf8))
    }
}

/// Why the OAUTHBEARER token provider gave no token (its error, described).
public struct OAuthTokenFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct OAuthBearerToken: Sendable, Equatable {
    public var token: String
    /// SASL extensions (KIP-342), sent sorted by key.
    public var extensions: [String: String]
    public init(token: String, extensions: [String: String] = [:]) {
        self.token = token
        self.extensions = extensions
    }
}

/// OAUTHBEARER (RFC 7628): one client message. A server that rejects it answers with a JSON
/// error instead of an empty message.
struct OAuthBearerSession: SaslSession {
    let token: OAuthBearerToken
    var sent = false
    var mechanism: String { "OAUTHBEARER" }

    mutating func step(_ serverMessage: [UInt8]?) throws(KafkaClientError) -> SaslStep {
        if !sent {
            sent = true
            var message = "n,,\u{1}auth=Bearer \(token.token)"
            for key in token.extensions.keys.sorted() { message += "\u{1}\(key)=\(token.extensions[key]!)" }
            message += "\u{1}\u{1}"
            return .send(Array(message.utf8))
        }
        if let reply = serverMessage, !reply.isEmpty {
            throw .saslAuthenticationFailed(mechanism: mechanism, message: String(decoding: reply, as: UTF8.self))
        }
        return .done
    }
}
