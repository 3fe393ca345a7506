import KafkaCrypto

/// SCRAM credentials created or deleted through AlterUserScramCredentials (KIP-554). The
/// configured users (FakeClusterConfig.users) are the starting point: a stored credential
/// replaces a configured one, a deletion hides it. Like a broker, only StoredKey and
/// ServerKey are kept, never a password.
struct ScramStore: Sendable, Equatable {
    struct Key: Sendable, Hashable, Comparable {
        var user: String
        var mechanism: FakeClusterConfig.SaslMechanism

        static func < (a: Key, b: Key) -> Bool { (a.user, a.mechanism.rawValue) < (b.user, b.mechanism.rawValue) }
    }

    struct Credential: Sendable, Equatable {
        var salt: [UInt8]
        var iterations: Int
        var storedKey: [UInt8]
        var serverKey: [UInt8]

        init(saltedPassword: [UInt8], salt: [UInt8], iterations: Int, digest: Digest) {
            self.salt = salt
            self.iterations = iterations
            storedKey = digest.hash(digest.hmac(key: saltedPassword, Array("Client Key".utf8)))
            serverKey = digest.hmac(key: saltedPassword, Array("Server Key".utf8))
        }
    }

    enum Entry: Sendable, Equatable {
        case stored(Credential)
        /// A configured user's credential, deleted.
        case deleted
    }

    var entries: [Key: Entry] = [:]

    /// AlterUserScramCredentials' wire mechanism numbers.
    static func mechanism(_ wire: Int8) -> FakeClusterConfig.SaslMechanism? {
        switch wire {
        case 1: return .scramSha256
        case 2: return .scramSha512
        default: return nil
        }
    }

    static func wire(_ m: FakeClusterConfig.SaslMechanism) -> Int8 { m == .scramSha256 ? 1 : 2 }
}

extension FakeCluster {
    /// Every SCRAM credential that can log in, configured or stored, sorted by user then
    /// mechanism, with its iterations.
    var scramCredentials: [(key: ScramStore.Key, iterations: Int)] {
        var out: [ScramStore.Key: Int] = [:]
        for u in config.users where u.mechanism != .plain { out[ScramStore.Key(user: u.name, mechanism: u.mechanism)] = Self.scramIterations }
        for (k, e) in state.scramUsers.entries {
            switch e {
            case .stored(let c): out[k] = c.iterations
            case .deleted: out[k] = nil
            }
        }
        return out.keys.sorted().map { ($0, out[$0]!) }
    }

    /// The salt and iterations a login for `user` is challenged with, and whether the
    /// credential was stored by AlterUserScramCredentials.
    func scramChallenge(_ m: FakeClusterConfig.SaslMechanism, _ user: String) -> (salt: [UInt8], iterations: Int) {
        if case .stored(let c) = state.scramUsers.entries[ScramStore.Key(user: user, mechanism: m)] { return (c.salt, c.iterations) }
        // Configured and unknown users alike: unknown users still get a challenge (a real
        // broker does not reveal who exists).
        return (Self.salt(m, user), Self.scramIterations)
    }

    /// The keys a login for `user` is checked against, or nil when the user has none.
    mutating func scramKeys(_ m: FakeClusterConfig.SaslMechanism, _ user: String, salt: [UInt8]) -> (storedKey: [UInt8], serverKey: [UInt8])? {
        switch state.scramUsers.entries[ScramStore.Key(user: user, mechanism: m)] {
        case .stored(let c): return (c.storedKey, c.serverKey)
        case .deleted: return nil
        case nil:
            guard let u = config.users.first(where: { $0.mechanism == m && $0.name == user }) else { return nil }
            return scramCredential(m, u, salt: salt)
        }
    }
}
