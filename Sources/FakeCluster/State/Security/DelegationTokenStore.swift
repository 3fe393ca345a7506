import KafkaCrypto

/// Delegation tokens (KIP-48) in the order they were issued. A token's id and HMAC come
/// from the cluster's seed and an issue counter (HMAC-SHA512 of the id under a secret
/// drawn from the seed, as Kafka signs ids under its master key), so a run replays them;
/// timestamps are the cluster's virtual clock in milliseconds.
struct DelegationTokenStore: Sendable, Equatable {
    struct Principal: Sendable, Hashable {
        var type: String
        var name: String

        /// "User:alice": how ACLs name it, as a principal or a USER resource.
        var text: String { "\(type):\(name)" }
    }

    struct Token: Sendable, Equatable {
        var tokenId: String
        var hmac: [UInt8]
        var owner: Principal
        var requester: Principal
        var renewers: [Principal]
        var issueMs: Int64
        var expiryMs: Int64
        var maxMs: Int64

        /// Kafka's ownerOrRenewer: who may renew or expire the token.
        func mayRenew(_ p: Principal) -> Bool { owner == p || requester == p || renewers.contains(p) }
        func expired(nowMs: Int64) -> Bool { expiryMs < nowMs || maxMs < nowMs }
    }

    /// delegation.token.max.lifetime.ms and delegation.token.expiry.time.ms (Kafka's
    /// defaults: 7 days and 24 hours).
    static let maxLifetimeMs: Int64 = 7 * 24 * 60 * 60 * 1000
    static let renewIntervalMs: Int64 = 24 * 60 * 60 * 1000

    private(set) var tokens: [Token] = []
    private var issued: UInt64 = 0

    /// A new token for `owner`, asked for by `requester`.
    mutating func issue(seed: UInt64, owner: Principal, requester: Principal, renewers: [Principal],
                        maxLifetimeMs: Int64, nowMs: Int64) -> Token {
        issued += 1
        let idBytes = Digest.sha256.hash(Array("kgo-fake-token-id:\(seed):\(issued)".utf8)).prefix(16)
        let tokenId = idBytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let secret = Digest.sha256.hash(Array("kgo-fake-token-secret:\(seed)".utf8))
        let lifetime = maxLifetimeMs > 0 ? min(maxLifetimeMs, Self.maxLifetimeMs) : Self.maxLifetimeMs
        let maxMs = nowMs + lifetime
        let token = Token(tokenId: tokenId, hmac: Digest.sha512.hmac(key: secret, Array(tokenId.utf8)), owner: owner,
                          requester: requester, renewers: renewers, issueMs: nowMs,
                          expiryMs: min(nowMs + Self.renewIntervalMs, maxMs), maxMs: maxMs)
        tokens.append(token)
        return token
    }

    func token(hmac: [UInt8]) -> Token? { tokens.first { $0.hmac == hmac } }

    /// Sets the expiry of the token with `hmac`; nil removes the token.
    mutating func setExpiry(hmac: [UInt8], _ expiryMs: Int64?) {
        guard let i = tokens.firstIndex(where: { $0.hmac == hmac }) else { return }
        if let expiryMs { tokens[i].expiryMs = expiryMs } else { tokens.remove(at: i) }
    }
}
