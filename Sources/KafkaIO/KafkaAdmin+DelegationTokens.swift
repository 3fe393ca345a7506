import KafkaProtocol
import KafkaStateMachines

/// A delegation token (KIP-48): its id and HMAC (the secret: with SCRAM, the id is the user
/// name and the HMAC in base64 the password), who owns and asked for it, who may renew it,
/// and its timestamps (milliseconds since the epoch, as the broker's clock has them).
public struct DelegationToken: Sendable, Equatable {
    /// The token's id (the SCRAM user name when logging in with it).
    public var tokenId: String
    /// The secret (in base64, the SCRAM password when logging in with it).
    public var hmac: [UInt8]
    /// "User:alice".
    public var owner: String
    /// Who created it ("User:alice"); the owner for brokers before 3.3 (KIP-373).
    public var requester: String
    /// Principals besides the owner that may renew it.
    public var renewers: [String]
    /// When it was issued.
    public var issueTimestamp: Int64
    /// When it expires unless renewed.
    public var expiryTimestamp: Int64
    /// The latest it can be renewed to.
    public var maxTimestamp: Int64

    /// For tests of code that reads tokens.
    public init(tokenId: String, hmac: [UInt8], owner: String, requester: String, renewers: [String],
                issueTimestamp: Int64, expiryTimestamp: Int64, maxTimestamp: Int64) {
        self.tokenId = tokenId
        self.hmac = hmac
        self.owner = owner
        self.requester = requester
        self.renewers = renewers
        self.issueTimestamp = issueTimestamp
        self.expiryTimestamp = expiryTimestamp
        self.maxTimestamp = maxTimestamp
    }
}

extension DelegationToken {
    /// The SASL login with this token (`SaslConfig.delegationToken`): a client configured
    /// with it acts as the token's owner, and may not create or renew tokens itself.
    public func sasl(_ algorithm: ScramAlgorithm = .sha512) -> SaslConfig {
        .delegationToken(algorithm, tokenId: tokenId, hmac: hmac)
    }
}

extension KafkaAdmin {
    /// Creates a token for the authenticated user, or for `owner` (v3, Kafka 3.3+)
    /// (CreateDelegationToken, Kafka 1.1+). Brokers issue tokens only over a SASL connection
    /// that did not itself log in with a token (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED).
    /// nil `maxLifetime`: the broker's delegation.token.max.lifetime.ms.
    public func createDelegationToken(renewers: [String] = [], maxLifetime: Duration? = nil,
                                      owner: String? = nil) async throws(KafkaAdminError) -> DelegationToken {
        let call = "createDelegationToken"
        for p in renewers + (owner.map { [$0] } ?? []) {
            if let why = Self.principalProblem(p) { throw .invalidArgument(call, reason: why) }
        }
        if let d = maxLifetime, d <= .zero { throw .invalidArgument(call, reason: "maxLifetime must be positive (nil: the broker's)") }
        var r = CreateDelegationTokenRequest()
        r.renewers = renewers.map { p in
            var x = CreateDelegationTokenRequest.CreatableRenewers()
            (x.principalType, x.principalName) = Self.split(principal: p)
            return x
        }
        r.maxLifetimeMs = maxLifetime.map(Self.milliseconds64) ?? -1
        // Left empty (the only value before v3), the owner is the requester.
        var pin: ClosedRange<Int16>?
        if let owner {
            (r.ownerPrincipalType, r.ownerPrincipalName) = Self.split(principal: owner)
            pin = 3 ... CreateDelegationTokenRequest.validVersions.upperBound
        }
        let resp = try await send(call, r, pin: pin)
        if let e = KafkaAdminError.from(resp.errorCode) { throw e }
        let ownerText = "\(resp.principalType):\(resp.principalName)"
        let requester = resp.tokenRequesterPrincipalName.isEmpty ? ownerText : "\(resp.tokenRequesterPrincipalType):\(resp.tokenRequesterPrincipalName)"
        return DelegationToken(tokenId: resp.tokenId, hmac: resp.hmac, owner: ownerText, requester: requester, renewers: renewers,
                               issueTimestamp: resp.issueTimestampMs, expiryTimestamp: resp.expiryTimestampMs, maxTimestamp: resp.maxTimestampMs)
    }

    /// Pushes the token's expiry to now + `renewPeriod` (nil: the broker's
    /// delegation.token.expiry.time.ms), never past its max timestamp (RenewDelegationToken,
    /// Kafka 1.1+). Only its owner, requester or a renewer may. Returns the new expiry (ms).
    public func renewDelegationToken(hmac: [UInt8], renewPeriod: Duration? = nil) async throws(KafkaAdminError) -> Int64 {
        let call = "renewDelegationToken"
        if hmac.isEmpty { throw .invalidArgument(call, reason: "an empty hmac") }
        if let d = renewPeriod, d < .zero { throw .invalidArgument(call, reason: "renewPeriod is negative (nil: the broker's)") }
        var r = RenewDelegationTokenRequest()
        r.hmac = hmac
        r.renewPeriodMs = renewPeriod.map(Self.milliseconds64) ?? -1
        let resp = try await send(call, r)
        if let e = KafkaAdminError.from(resp.errorCode) { throw e }
        return resp.expiryTimestampMs
    }

    /// Sets the token to expire `expiryPeriod` from now (nil: at once, and the broker drops
    /// it), never past its max timestamp (ExpireDelegationToken, Kafka 1.1+). Only its owner,
    /// requester or a renewer may. Returns the new expiry (ms).
    public func expireDelegationToken(hmac: [UInt8], expiryPeriod: Duration? = nil) async throws(KafkaAdminError) -> Int64 {
        let call = "expireDelegationToken"
        if hmac.isEmpty { throw .invalidArgument(call, reason: "an empty hmac") }
        if let d = expiryPeriod, d < .zero { throw .invalidArgument(call, reason: "expiryPeriod is negative (nil: expire now)") }
        var r = ExpireDelegationTokenRequest()
        r.hmac = hmac
        r.expiryTimePeriodMs = expiryPeriod.map(Self.milliseconds64) ?? -1
        let resp = try await send(call, r)
        if let e = KafkaAdminError.from(resp.errorCode) { throw e }
        return resp.expiryTimestampMs
    }

    /// The tokens of `owners` ("User:alice"; nil: every owner's) that the broker lets the
    /// caller see (DescribeDelegationToken, Kafka 1.1+), in the broker's order.
    public func describeDelegationTokens(owners: [String]? = nil) async throws(KafkaAdminError) -> [DelegationToken] {
        let call = "describeDelegationTokens"
        for p in owners ?? [] {
            if let why = Self.principalProblem(p) { throw .invalidArgument(call, reason: why) }
        }
        var r = DescribeDelegationTokenRequest()
        r.owners = owners.map { $0.map { p in
            var o = DescribeDelegationTokenRequest.DescribeDelegationTokenOwner()
            (o.principalType, o.principalName) = Self.split(principal: p)
            return o
        } }
        let resp = try await send(call, r)
        if let e = KafkaAdminError.from(resp.errorCode) { throw e }
        return resp.tokens.map { t in
            let owner = "\(t.principalType):\(t.principalName)"
            return DelegationToken(tokenId: t.tokenId, hmac: t.hmac, owner: owner,
                                   requester: t.tokenRequesterPrincipalName.isEmpty ? owner : "\(t.tokenRequesterPrincipalType):\(t.tokenRequesterPrincipalName)",
                                   renewers: t.renewers.map { "\($0.principalType):\($0.principalName)" },
                                   issueTimestamp: t.issueTimestamp, expiryTimestamp: t.expiryTimestamp, maxTimestamp: t.maxTimestamp)
        }
    }

    /// "User:alice" → ("User", "alice"); checked by `principalProblem` first.
    static func split(principal p: String) -> (String, String) {
        let colon = p.firstIndex(of: ":")!
        return (String(p[..<colon]), String(p[p.index(after: colon)...]))
    }

    static func principalProblem(_ p: String) -> String? { AclFilter.principalProblem(p) }

    static func milliseconds64(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}
