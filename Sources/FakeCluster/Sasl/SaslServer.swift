import KafkaCrypto

/// One connection's SASL state: the mechanism from SaslHandshake, a SCRAM exchange in
/// progress, and the authenticated session with its KIP-368 expiry.
struct SaslSession: Sendable {
    var mechanism: FakeClusterConfig.SaslMechanism?
    var scram: ScramExchange?
    var user: String?
    /// Logged in with a delegation token (SCRAM with `tokenauth=true`): `user` is the
    /// token's owner, and token requests are refused on this connection.
    var viaToken = false
    var expiresAt: Instant?
    /// After a v0 SaslHandshake, the SASL tokens come as bare size-prefixed frames (no
    /// Kafka header) until authentication ends.
    var rawTokens = false

    struct ScramExchange: Sendable {
        var user: String
        var clientFirstBare: String
        var serverFirst: String
        var nonce: String
        var salt: [UInt8]
        var iterations: Int
        /// `user` is a delegation token id.
        var tokenAuth = false
    }
}

/// SaslHandshake and SaslAuthenticate (v1 handshake + authenticate frames; the v0 raw-token
/// exchange is not served): PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER (a token per user)
/// against the configured users, and
/// SCRAM against the credentials AlterUserScramCredentials stored (ScramStore.swift) and
/// delegation tokens (the `tokenauth=true` extension: the token id as user name, its HMAC
/// in base64 as password).
extension FakeCluster {
    static let scramIterations = 4096

    var saslMechanisms: [FakeClusterConfig.SaslMechanism] {
        FakeClusterConfig.SaslMechanism.allCases.filter { m in
            config.users.contains { $0.mechanism == m } || scramCredentials.contains { $0.key.mechanism == m }
                || (m != .plain && m != .oauthBearer && !state.delegationTokens.tokens.isEmpty)
        }
    }

    /// Why a request may not be served on this connection yet, or nil.
    func saslGate(_ ctx: RequestContext) -> String? {
        guard !config.users.isEmpty else { return nil }
        if ctx.apiKey == .apiVersions || ctx.apiKey == .saslHandshake || ctx.apiKey == .saslAuthenticate { return nil }
        let s = connections[ctx.connection]!.sasl
        guard s.user != nil else { return "\(ctx.apiKey.name) before SASL authentication" }
        if let e = s.expiresAt, e <= ctx.now { return "SASL session expired (KIP-368); re-authentication was due" }
        return nil
    }

    mutating func handleSaslHandshake(_ r: SaslHandshakeRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = SaslHandshakeResponse()
        resp.mechanisms = saslMechanisms.map(\.rawValue)
        guard let m = FakeClusterConfig.SaslMechanism(rawValue: r.mechanism), saslMechanisms.contains(m) else {
            resp.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
            return .respond(resp)
        }
        connections[ctx.connection]!.sasl.mechanism = m
        connections[ctx.connection]!.sasl.scram = nil
        connections[ctx.connection]!.sasl.rawTokens = ctx.version == 0
        return .respond(resp)
    }

    mutating func handleSaslAuthenticate(_ r: SaslAuthenticateRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = SaslAuthenticateResponse()
        func fail(_ message: String) -> HandlerResult {
            resp.errorCode = KafkaErrorCode.saslAuthenticationFailed.rawValue
            resp.errorMessage = message
            connections[ctx.connection]!.sasl = SaslSession()
            return .respond(resp)
        }
        guard let m = connections[ctx.connection]!.sasl.mechanism else {
            resp.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            resp.errorMessage = "SaslAuthenticate before SaslHandshake"
            return .respond(resp)
        }
        let text = String(decoding: r.authBytes, as: UTF8.self)
        switch m {
        case .plain:
            let parts = r.authBytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard parts.count == 3, config.users.contains(where: { $0.mechanism == .plain && $0.name == parts[1] && $0.password == parts[2] }) else {
                return fail("Authentication failed: Invalid username or password")
            }
            authenticated(parts[1], ctx, &resp)
            return .respond(resp)
        case .oauthBearer:
            // n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01
            let fields = text.split(separator: "\u{1}").map(String.init)
            guard let auth = fields.first(where: { $0.hasPrefix("auth=Bearer ") }),
                  let user = config.users.first(where: { $0.mechanism == .oauthBearer && $0.password == auth.dropFirst("auth=Bearer ".count) }) else {
                return fail("Authentication failed: invalid OAUTHBEARER token")
            }
            authenticated(user.name, ctx, &resp)
            return .respond(resp)
        case .scramSha256, .scramSha512:
            let digest: Digest = m == .scramSha256 ? .sha256 : .sha512
            if let ex = connections[ctx.connection]!.sasl.scram {
                // client-final-message: c=biws,r=<nonce>,p=<proof>
                let attrs = Self.scramAttributes(text)
                guard let proofText = attrs["p"], let proof = Base64.decode(proofText), attrs["r"] == ex.nonce,
                      let withoutProof = Self.beforeProof(text),
                      let cred = ex.tokenAuth ? tokenScramKeys(m, ex.user, salt: ex.salt, now: ctx.now) : scramKeys(m, ex.user, salt: ex.salt) else {
                    return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism \(m.rawValue)")
                }
                let authMessage = Array("\(ex.clientFirstBare),\(ex.serverFirst),\(withoutProof)".utf8)
                let signature = digest.hmac(key: cred.storedKey, authMessage)
                let clientKey = zip(proof, signature).map { $0 ^ $1 }
                guard proof.count == signature.count, digest.hash(clientKey) == cred.storedKey else {
                    return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism \(m.rawValue)")
                }
                let serverKey = cred.serverKey
                resp.authBytes = Array("v=\(Base64.encode(digest.hmac(key: serverKey, authMessage)))".utf8)
                if ex.tokenAuth, let owner = state.delegationTokens.tokens.first(where: { $0.tokenId == ex.user })?.owner.name {
                    authenticated(owner, ctx, &resp)
                    connections[ctx.connection]!.sasl.viaToken = true
                } else {
                    authenticated(ex.user, ctx, &resp)
                }
                return .respond(resp)
            }
            // client-first-message: n,,n=<user>,r=<client nonce>
            guard text.hasPrefix("n,"), let bareStart = text.dropFirst(2).firstIndex(of: ",") else {
                return fail("Invalid SCRAM client first message")
            }
            let bare = String(text[text.index(after: bareStart)...])
            let attrs = Self.scramAttributes(bare)
            guard let user = attrs["n"], let clientNonce = attrs["r"], !clientNonce.isEmpty else {
                return fail("Invalid SCRAM client first message")
            }
            let tokenAuth = attrs["tokenauth"] == "true"
            let (salt, iterations) = tokenAuth ? (Self.salt(m, "token:\(user)"), Self.scramIterations) : scramChallenge(m, user)
            var nonce = clientNonce
            for _ in 0 ..< 2 { nonce += String(state.rng.next(), radix: 36) }
            let serverFirst = "r=\(nonce),s=\(Base64.encode(salt)),i=\(iterations)"
            connections[ctx.connection]!.sasl.scram = SaslSession.ScramExchange(
                user: user, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce, salt: salt,
                iterations: iterations, tokenAuth: tokenAuth)
            resp.authBytes = Array(serverFirst.utf8)
            return .respond(resp)
        }
    }

    /// A user's salt, fixed as a broker's stored credential is (derived from the name so it
    /// needs no generator draw).
    static func salt(_ m: FakeClusterConfig.SaslMechanism, _ user: String) -> [UInt8] {
        Digest.sha256.hash(Array("kgo-fake-salt:\(m.rawValue):\(user)".utf8)).prefix(16).map { $0 }
    }

    /// The stored credential (StoredKey, ServerKey), computed once per user, as a broker
    /// stores these rather than passwords (and PBKDF2 at 4096 iterations is not free).
    mutating func scramCredential(_ m: FakeClusterConfig.SaslMechanism, _ user: FakeClusterConfig.User,
                                  salt: [UInt8]) -> (storedKey: [UInt8], serverKey: [UInt8]) {
        let key = "\(m.rawValue):\(user.name)"
        if let c = scramCache[key] { return c }
        let digest: Digest = m == .scramSha256 ? .sha256 : .sha512
        let salted = digest.pbkdf2(password: Array(user.password.utf8), salt: salt, iterations: Self.scramIterations)
        let c = (storedKey: digest.hash(digest.hmac(key: salted, Array("Client Key".utf8))),
                 serverKey: digest.hmac(key: salted, Array("Server Key".utf8)))
        scramCache[key] = c
        return c
    }

    /// A bare SASL token after a v0 handshake: answered with a bare token frame; a failed
    /// login closes the connection (the v0 exchange has no way to carry an error).
    mutating func handleRawSaslToken(_ id: FakeConnectionID, _ token: [UInt8], now: Instant, into out: inout [FakeOutput]) {
        let ctx = RequestContext(connection: id, broker: connections[id]!.broker, apiKey: .saslAuthenticate, version: 0,
                                 correlationId: 0, clientId: "", now: now)
        var r = SaslAuthenticateRequest()
        r.authBytes = token
        guard case .respond(let any) = handleSaslAuthenticate(r, ctx), let resp = any as? SaslAuthenticateResponse else { return }
        guard resp.errorCode == 0 else {
            return close(id, "SASL authentication failed (v0 handshake, raw tokens): \(resp.errorMessage ?? "")", into: &out)
        }
        if connections[id]!.sasl.user != nil { connections[id]!.sasl.rawTokens = false }
        var w = ByteWriter(capacity: resp.authBytes.count + 4)
        w.writeInt32(Int32(resp.authBytes.count))
        w.writeRaw(resp.authBytes)
        enqueue(id, .ready(w.bytes))
    }

    /// The keys a token login is checked against: its HMAC in base64 as the password, while
    /// the token is not expired.
    mutating func tokenScramKeys(_ m: FakeClusterConfig.SaslMechanism, _ tokenId: String, salt: [UInt8],
                                 now: Instant) -> (storedKey: [UInt8], serverKey: [UInt8])? {
        guard let t = state.delegationTokens.tokens.first(where: { $0.tokenId == tokenId }), !t.expired(nowMs: now.milliseconds) else { return nil }
        return scramCredential(m, FakeClusterConfig.User(mechanism: m, name: "token:\(tokenId)", password: Base64.encode(t.hmac)), salt: salt)
    }

    private mutating func authenticated(_ user: String, _ ctx: RequestContext, _ resp: inout SaslAuthenticateResponse) {
        connections[ctx.connection]!.sasl.user = user
        connections[ctx.connection]!.sasl.viaToken = false
        connections[ctx.connection]!.sasl.scram = nil
        if config.saslSessionLifetimeMs > 0 {
            resp.sessionLifetimeMs = config.saslSessionLifetimeMs
            connections[ctx.connection]!.sasl.expiresAt = ctx.now.adding(milliseconds: config.saslSessionLifetimeMs)
        }
    }

    /// The client-final message without its ",p=…" proof (what the signature covers).
    static func beforeProof(_ s: String) -> String? {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        guard let i = parts.firstIndex(where: { $0.hasPrefix("p=") }) else { return nil }
        return parts[..<i].joined(separator: ",")
    }

    /// "a=1,b=2" → [a: 1, b: 2] (SCRAM attribute lists; values may contain '=').
    static func scramAttributes(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in s.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }
}
