/// CreateDelegationToken, RenewDelegationToken, ExpireDelegationToken and
/// DescribeDelegationToken (KIP-48, KIP-373) over DelegationTokenStore. As Kafka: only a
/// connection that authenticated with SASL, and not with a token (SaslServer.swift serves
/// token logins), may use them (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED otherwise); only the
/// owner, the requester or a renewer renews or expires a token
/// (DELEGATION_TOKEN_OWNER_MISMATCH); an unknown HMAC is DELEGATION_TOKEN_NOT_FOUND and a
/// token past its expiry DELEGATION_TOKEN_EXPIRED. A token past its expiry is left out of
/// descriptions (Kafka's expiry check removes it).
///
/// With `authorization` on, Kafka's ACL rules (KIP-373): creating a token for another owner
/// needs CREATE_TOKENS on the USER resource named by that owner's principal ("User:bob";
/// DELEGATION_TOKEN_AUTHORIZATION_FAILED otherwise); a description lists only the tokens the
/// caller owns, asked for or may renew, those it may DESCRIBE as DELEGATION_TOKEN resources
/// (by token id), and those whose owner's USER resource it may DESCRIBE_TOKENS. Renewal and
/// expiry stay the owner's, requester's and renewers' alone, ACLs or not.
extension FakeCluster {
    typealias Principal = DelegationTokenStore.Principal

    /// The SASL user of this connection, or nil when it has not authenticated or logged in
    /// with a token itself.
    func tokenPrincipal(_ ctx: RequestContext) -> Principal? {
        guard let s = connections[ctx.connection]?.sasl, !s.viaToken else { return nil }
        return s.user.map { Principal(type: "User", name: $0) }
    }

    mutating func handleCreateDelegationToken(_ r: CreateDelegationTokenRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreateDelegationTokenResponse()
        guard let requester = tokenPrincipal(ctx) else {
            resp.errorCode = KafkaErrorCode.delegationTokenRequestNotAllowed.code
            return .respond(resp)
        }
        var owner = requester
        if ctx.version >= 3, let name = r.ownerPrincipalName, !name.isEmpty {
            owner = Principal(type: r.ownerPrincipalType ?? "User", name: name)
        }
        let renewers = r.renewers.map { Principal(type: $0.principalType, name: $0.principalName) }
        guard owner.type == "User", renewers.allSatisfy({ $0.type == "User" }) else {
            resp.errorCode = KafkaErrorCode.invalidPrincipalType.code
            return .respond(resp)
        }
        if owner != requester, !allows(ctx.connection, .createTokens, .user, owner.text) {
            resp.errorCode = KafkaErrorCode.delegationTokenAuthorizationFailed.code
            return .respond(resp)
        }
        let t = state.delegationTokens.issue(seed: config.seed, owner: owner, requester: requester, renewers: renewers,
                                             maxLifetimeMs: r.maxLifetimeMs, nowMs: ctx.now.milliseconds)
        resp.principalType = t.owner.type
        resp.principalName = t.owner.name
        resp.tokenRequesterPrincipalType = t.requester.type
        resp.tokenRequesterPrincipalName = t.requester.name
        resp.issueTimestampMs = t.issueMs
        resp.expiryTimestampMs = t.expiryMs
        resp.maxTimestampMs = t.maxMs
        resp.tokenId = t.tokenId
        resp.hmac = t.hmac
        return .respond(resp)
    }

    /// The token a renewal or expiry acts on, or why it may not.
    func renewableToken(_ hmac: [UInt8], _ ctx: RequestContext) -> Result<DelegationTokenStore.Token, KafkaErrorCode> {
        guard let p = tokenPrincipal(ctx) else { return .failure(.delegationTokenRequestNotAllowed) }
        guard let t = state.delegationTokens.token(hmac: hmac) else { return .failure(.delegationTokenNotFound) }
        guard t.mayRenew(p) else { return .failure(.delegationTokenOwnerMismatch) }
        guard !t.expired(nowMs: ctx.now.milliseconds) else { return .failure(.delegationTokenExpired) }
        return .success(t)
    }

    mutating func handleRenewDelegationToken(_ r: RenewDelegationTokenRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = RenewDelegationTokenResponse()
        switch renewableToken(r.hmac, ctx) {
        case .failure(let e):
            resp.errorCode = e.code
        case .success(let t):
            // A negative period: the broker's renew interval.
            let period = r.renewPeriodMs < 0 ? DelegationTokenStore.renewIntervalMs : r.renewPeriodMs
            let expiry = min(t.maxMs, ctx.now.milliseconds + period)
            state.delegationTokens.setExpiry(hmac: r.hmac, expiry)
            resp.expiryTimestampMs = expiry
        }
        return .respond(resp)
    }

    mutating func handleExpireDelegationToken(_ r: ExpireDelegationTokenRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ExpireDelegationTokenResponse()
        switch renewableToken(r.hmac, ctx) {
        case .failure(let e):
            resp.errorCode = e.code
        case .success(let t):
            // A negative period expires the token now: it is removed.
            if r.expiryTimePeriodMs < 0 {
                state.delegationTokens.setExpiry(hmac: r.hmac, nil)
                resp.expiryTimestampMs = ctx.now.milliseconds
            } else {
                let expiry = min(t.maxMs, ctx.now.milliseconds + r.expiryTimePeriodMs)
                state.delegationTokens.setExpiry(hmac: r.hmac, expiry)
                resp.expiryTimestampMs = expiry
            }
        }
        return .respond(resp)
    }

    /// Kafka's filter for descriptions: the caller's own tokens (owner, requester or
    /// renewer), or DESCRIBE on the token, or DESCRIBE_TOKENS on its owner.
    func mayDescribe(_ t: DelegationTokenStore.Token, _ caller: Principal, _ ctx: RequestContext) -> Bool {
        t.mayRenew(caller) || allows(ctx.connection, .describe, .delegationToken, t.tokenId)
            || allows(ctx.connection, .describeTokens, .user, t.owner.text)
    }

    func handleDescribeDelegationToken(_ r: DescribeDelegationTokenRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeDelegationTokenResponse()
        guard let caller = tokenPrincipal(ctx) else {
            resp.errorCode = KafkaErrorCode.delegationTokenRequestNotAllowed.code
            return .respond(resp)
        }
        let owners = r.owners.map { $0.map { Principal(type: $0.principalType, name: $0.principalName) } }
        let nowMs = ctx.now.milliseconds
        resp.tokens = state.delegationTokens.tokens.filter { t in
            !t.expired(nowMs: nowMs) && (owners?.contains(t.owner) ?? true) && mayDescribe(t, caller, ctx)
        }.map { t in
            var d = DescribeDelegationTokenResponse.DescribedDelegationToken()
            d.principalType = t.owner.type
            d.principalName = t.owner.name
            d.tokenRequesterPrincipalType = t.requester.type
            d.tokenRequesterPrincipalName = t.requester.name
            d.issueTimestamp = t.issueMs
            d.expiryTimestamp = t.expiryMs
            d.maxTimestamp = t.maxMs
            d.tokenId = t.tokenId
            d.hmac = t.hmac
            d.renewers = t.renewers.map { p in
                var x = DescribeDelegationTokenResponse.DescribedDelegationTokenRenewer()
                x.principalType = p.type
                x.principalName = p.name
                return x
            }
            return d
        }
        return .respond(resp)
    }
}
