import KafkaCrypto
import KafkaProtocol
import KafkaStateMachines

/// A SCRAM mechanism as AlterUserScramCredentials numbers it.
public enum ScramMechanism: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case sha256 = 1, sha512 = 2

    /// The SASL mechanism name.
    public var description: String { self == .sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512" }

    var digest: Digest { self == .sha256 ? .sha256 : .sha512 }
}

/// A user's stored credential, as DescribeUserScramCredentials shows it (never the secret).
public struct ScramCredentialInfo: Sendable, Hashable {
    /// The mechanism.
    public var mechanism: ScramMechanism
    /// The PBKDF2 iterations it was salted with.
    public var iterations: Int32

    /// For tests of code that reads credentials.
    public init(mechanism: ScramMechanism, iterations: Int32) {
        self.mechanism = mechanism
        self.iterations = iterations
    }
}

/// A SCRAM credential to create or replace. The password is salted and hashed here, on the
/// client (KIP-554): the broker only ever sees the salted password.
public struct ScramUpsertion: Sendable, Hashable {
    /// The user name.
    public var user: String
    /// SCRAM-SHA-256 or SCRAM-SHA-512.
    public var mechanism: ScramMechanism
    /// The password (salted and hashed here; never sent).
    public var password: String
    /// PBKDF2 iterations: 4096 to 16384 (the broker's limits).
    public var iterations: Int32
    /// nil: 32 bytes drawn for this call (from the client's `randomSeed` when set, so a
    /// seeded run is reproducible; otherwise from the system generator).
    public var salt: [UInt8]?

    /// A credential for `user` with `password`.
    public init(user: String, mechanism: ScramMechanism, password: String, iterations: Int32 = 4096, salt: [UInt8]? = nil) {
        self.user = user
        self.mechanism = mechanism
        self.password = password
        self.iterations = iterations
        self.salt = salt
    }
}

extension KafkaAdmin {
    /// Kafka's bounds on SCRAM iterations (ScramMechanism's minIterations, and the cap
    /// AlterUserScramCredentials enforces).
    public static let scramIterations: ClosedRange<Int32> = 4096 ... 16384

    /// Each user's SCRAM credentials (DescribeUserScramCredentials, Kafka 2.7+); nil: every
    /// user that has one. An unknown user is its own RESOURCE_NOT_FOUND.
    public func describeUserScramCredentials(_ users: [String]? = nil) async throws(KafkaAdminError) -> [AdminResult<[ScramCredentialInfo]>] {
        let names = users ?? []
        let problems = Self.problems(names, name: { $0 }) { $0.isEmpty ? .invalidArgument("user", reason: "empty user name") : nil }
        var r = DescribeUserScramCredentialsRequest()
        r.users = users.map { _ in
            zip(names, problems).filter { $0.1 == nil }.map { n, _ in
                var u = DescribeUserScramCredentialsRequest.UserName()
                u.name = n
                return u
            }
        }
        if users != nil && r.users?.isEmpty == true {
            return Self.results(names, problems: problems, name: { $0 }) { _ in nil }
        }
        let resp = try await send("describeUserScramCredentials", r)
        if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
        var answers: [String: Result<[ScramCredentialInfo], KafkaAdminError>] = [:]
        var order: [String] = []
        for res in resp.results {
            order.append(res.user)
            if let e = KafkaAdminError.from(res.errorCode, message: res.errorMessage) { answers[res.user] = .failure(e); continue }
            answers[res.user] = .success(res.credentialInfos.compactMap { c in
                ScramMechanism(rawValue: c.mechanism).map { ScramCredentialInfo(mechanism: $0, iterations: c.iterations) }
            })
        }
        guard users != nil else { return order.map { AdminResult($0, answers[$0]!) } }
        return Self.results(names, problems: problems, name: { $0 }) { answers[$0] }
    }

    /// Creates or replaces SCRAM credentials (AlterUserScramCredentials, Kafka 2.7+).
    /// Results are per item; the broker answers per user, so two items for one user share
    /// that user's outcome.
    public func upsertScramUsers(_ upsertions: [ScramUpsertion]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        try await alterScram(upsertions: upsertions, deletions: [])
    }

    /// Creates or replaces one user's credential (see `upsertScramUsers`).
    public func upsertScramUser(_ user: String, _ mechanism: ScramMechanism, password: String, iterations: Int32 = 4096,
                                salt: [UInt8]? = nil) async throws(KafkaAdminError) -> AdminResult<AdminDone> {
        try await upsertScramUsers([ScramUpsertion(user: user, mechanism: mechanism, password: password, iterations: iterations, salt: salt)])[0]
    }

    /// Deletes users' SCRAM credentials for the given mechanisms.
    public func deleteScramUsers(_ deletions: [(user: String, mechanism: ScramMechanism)]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        try await alterScram(upsertions: [], deletions: deletions)
    }

    /// Deletes one user's credential for `mechanism` (see `deleteScramUsers`).
    public func deleteScramUser(_ user: String, _ mechanism: ScramMechanism) async throws(KafkaAdminError) -> AdminResult<AdminDone> {
        try await deleteScramUsers([(user, mechanism)])[0]
    }

    private enum ScramItem {
        case upsert(ScramUpsertion)
        case delete(String, ScramMechanism)

        var user: String {
            switch self {
            case .upsert(let u): return u.user
            case .delete(let u, _): return u
            }
        }

        var name: String {
            switch self {
            case .upsert(let u): return "\(u.user) \(u.mechanism)"
            case .delete(let u, let m): return "\(u) \(m)"
            }
        }
    }

    private func alterScram(upsertions: [ScramUpsertion], deletions: [(user: String, mechanism: ScramMechanism)]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let items = upsertions.map(ScramItem.upsert) + deletions.map { ScramItem.delete($0.user, $0.mechanism) }
        let problems = Self.problems(items, name: \.name) { item -> KafkaAdminError? in
            if item.user.isEmpty { return .invalidArgument(item.name, reason: "empty user name") }
            guard case .upsert(let u) = item else { return nil }
            if !Self.scramIterations.contains(u.iterations) {
                return .invalidArgument(item.name, reason: "iterations must be within \(Self.scramIterations.lowerBound)...\(Self.scramIterations.upperBound)")
            }
            if u.salt?.isEmpty == true { return .invalidArgument(item.name, reason: "an empty salt") }
            return nil
        }
        var r = AlterUserScramCredentialsRequest()
        for (item, problem) in zip(items, problems) where problem == nil {
            switch item {
            case .upsert(let u):
                var x = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
                x.name = u.user
                x.mechanism = u.mechanism.rawValue
                x.iterations = u.iterations
                x.salt = u.salt ?? scramSalt(for: u)
                x.saltedPassword = u.mechanism.digest.pbkdf2(password: Array(u.password.utf8), salt: x.salt, iterations: Int(u.iterations))
                r.upsertions.append(x)
            case .delete(let user, let m):
                var x = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
                x.name = user
                x.mechanism = m.rawValue
                r.deletions.append(x)
            }
        }
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !r.upsertions.isEmpty || !r.deletions.isEmpty {
            let resp = try await send("alterUserScramCredentials", r)
            for res in resp.results {
                answers[res.user] = KafkaAdminError.from(res.errorCode, message: res.errorMessage).map { .failure($0) } ?? .success(AdminDone())
            }
        }
        return items.indices.map { i in
            if let p = problems[i] { return AdminResult(items[i].name, .failure(p)) }
            return AdminResult(items[i].name, answers[items[i].user] ?? .failure(.missingFromAnswer(items[i].name)))
        }
    }

    /// 32 salt bytes: from the client's seed mixed with the user and mechanism when the
    /// client is seeded (reproducible runs), else from the system generator.
    private func scramSalt(for u: ScramUpsertion) -> [UInt8] {
        func draw<G: RandomNumberGenerator>(_ g: inout G) -> [UInt8] {
            (0 ..< 4).flatMap { _ in withUnsafeBytes(of: g.next() as UInt64) { Array($0) } }
        }
        guard let seed = client.configuration.randomSeed else {
            var g = SystemRandomNumberGenerator()
            return draw(&g)
        }
        // FNV-1a over the user and mechanism, so users drawn under one seed differ.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in Array("\(u.user)\u{0}\(u.mechanism.rawValue)".utf8) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var g = SeededGenerator(seed: seed ^ h)
        return draw(&g)
    }
}
