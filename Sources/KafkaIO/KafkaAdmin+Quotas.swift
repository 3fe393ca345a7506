import KafkaProtocol
import KafkaStateMachines

/// The kinds of client a quota names (KIP-546).
public enum QuotaEntityType: String, Sendable, Hashable, CaseIterable {
    case user = "user"
    case clientId = "client-id"
    case ip = "ip"
}

/// One part of a quota entity: a user, a client id or an IP, by name or the default
/// entity of its kind (nil name).
public struct QuotaEntityComponent: Sendable, Hashable {
    /// User, client id or IP.
    public var type: QuotaEntityType
    /// nil: the default entity ("<default>").
    public var name: String?

    /// The entity of `type` named `name` (nil: the default entity).
    public init(_ type: QuotaEntityType, _ name: String?) {
        self.type = type
        self.name = name
    }
}

/// What a quota applies to: a user, a client id, a user and client id, or an IP.
public struct ClientQuotaEntity: Sendable, Hashable, CustomStringConvertible {
    /// In Kafka's order (user, client-id, ip), whatever order they were given in.
    public private(set) var components: [QuotaEntityComponent]

    /// An entity of these components, put in Kafka's order.
    public init(_ components: [QuotaEntityComponent]) {
        let order = QuotaEntityType.allCases
        self.components = components.sorted { order.firstIndex(of: $0.type)! < order.firstIndex(of: $1.type)! }
    }

    /// A user (nil: the default user).
    public static func user(_ name: String?) -> ClientQuotaEntity { ClientQuotaEntity([QuotaEntityComponent(.user, name)]) }
    /// A client id (nil: the default client id).
    public static func clientId(_ name: String?) -> ClientQuotaEntity { ClientQuotaEntity([QuotaEntityComponent(.clientId, name)]) }
    /// An IP address (nil: the default IP).
    public static func ip(_ name: String?) -> ClientQuotaEntity { ClientQuotaEntity([QuotaEntityComponent(.ip, name)]) }

    /// "user=alice,client-id=<default>".
    public var description: String {
        components.map { "\($0.type.rawValue)=\($0.name ?? "<default>")" }.joined(separator: ",")
    }

    var problem: String? {
        if components.isEmpty { return "an entity names at least one of user, client-id, ip" }
        if Set(components.map(\.type)).count != components.count { return "an entity names each type at most once" }
        if components.contains(where: { $0.type == .ip }) && components.count > 1 { return "an ip entity stands alone" }
        if components.contains(where: { $0.name?.isEmpty == true }) { return "an empty name (nil is the default entity)" }
        return nil
    }
}

/// One quota change: set a value, or remove it (back to the defaults above it).
public enum QuotaOperation: Sendable, Hashable {
    case set(String, Double)
    case remove(String)

    var key: String {
        switch self {
        case .set(let k, _), .remove(let k): return k
        }
    }
}

/// Changes to one entity's quotas (`alterClientQuotas`).
public struct ClientQuotaAlteration: Sendable, Hashable {
    /// The entity.
    public var entity: ClientQuotaEntity
    /// The changes, applied together.
    public var operations: [QuotaOperation]

    /// These changes to `entity`'s quotas.
    public init(_ entity: ClientQuotaEntity, _ operations: [QuotaOperation]) {
        self.entity = entity
        self.operations = operations
    }
}

/// How DescribeClientQuotas picks entities, per entity type.
public struct ClientQuotaFilter: Sendable, Hashable {
    /// Which entities of the type match.
    public enum Match: Sendable, Hashable {
        /// The entity of this name.
        case exact(String)
        /// The default entity.
        case defaultEntity
        /// Any entity of this type, named or default.
        case any
    }

    /// The entity type filtered.
    public var type: QuotaEntityType
    /// How its names match.
    public var match: Match

    /// A filter on `type`'s entities.
    public init(_ type: QuotaEntityType, _ match: Match) {
        self.type = type
        self.match = match
    }
}

/// An entity's quotas, keyed by quota name (producer_byte_rate, consumer_byte_rate,
/// request_percentage, controller_mutation_rate, connection_creation_rate).
public struct ClientQuotaEntry: Sendable, Equatable {
    /// The entity.
    public var entity: ClientQuotaEntity
    /// Its quotas by name.
    public var values: [String: Double]
}

extension KafkaAdmin {
    /// The quotas of every entity the filters match (DescribeClientQuotas, Kafka 2.6+). An
    /// entity matches when it has every filtered type as asked; with `strict`, only those types.
    public func describeClientQuotas(_ filters: [ClientQuotaFilter], strict: Bool = false) async throws(KafkaAdminError) -> [ClientQuotaEntry] {
        if Set(filters.map(\.type)).count != filters.count {
            throw .invalidArgument("describeClientQuotas", reason: "each entity type is filtered at most once")
        }
        var r = DescribeClientQuotasRequest()
        r.strict = strict
        r.components = filters.map { f in
            var c = DescribeClientQuotasRequest.ComponentData()
            c.entityType = f.type.rawValue
            switch f.match {
            case .exact(let n): c.matchType = 0; c.match = n
            case .defaultEntity: c.matchType = 1; c.match = nil
            case .any: c.matchType = 2; c.match = nil
            }
            return c
        }
        let resp = try await send("describeClientQuotas", r)
        if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
        var out: [ClientQuotaEntry] = []
        for e in resp.entries ?? [] {
            var parts: [QuotaEntityComponent] = []
            for c in e.entity {
                guard let t = QuotaEntityType(rawValue: c.entityType) else {
                    throw .invalidArgument("describeClientQuotas", reason: "the broker answered an unknown entity type \(c.entityType)")
                }
                parts.append(QuotaEntityComponent(t, c.entityName))
            }
            var values: [String: Double] = [:]
            for v in e.values { values[v.key] = v.value }
            out.append(ClientQuotaEntry(entity: ClientQuotaEntity(parts), values: values))
        }
        return out
    }

    /// Sets and removes quotas (AlterClientQuotas, Kafka 2.6+); each entity's operations
    /// apply together or not at all.
    public func alterClientQuotas(_ alterations: [ClientQuotaAlteration], validateOnly: Bool = false) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let problems = Self.problems(alterations, name: \.entity.description) { a -> KafkaAdminError? in
            let n = a.entity.description
            if let p = a.entity.problem { return .invalidArgument(n, reason: p) }
            if a.operations.isEmpty { return .invalidArgument(n, reason: "no operations") }
            var seen: Set<String> = []
            for op in a.operations {
                if op.key.isEmpty { return .invalidArgument(n, reason: "a quota with an empty name") }
                if !seen.insert(op.key).inserted { return .invalidArgument(n, reason: "quota \(op.key) changed twice") }
                if case .set(let k, let v) = op, !(v > 0) || !v.isFinite { return .invalidArgument(n, reason: "quota \(k) must be a positive number") }
            }
            return nil
        }
        var r = AlterClientQuotasRequest()
        r.validateOnly = validateOnly
        for (a, problem) in zip(alterations, problems) where problem == nil {
            var e = AlterClientQuotasRequest.EntryData()
            e.entity = a.entity.components.map { c in
                var d = AlterClientQuotasRequest.EntityData()
                d.entityType = c.type.rawValue
                d.entityName = c.name
                return d
            }
            e.ops = a.operations.map { op in
                var o = AlterClientQuotasRequest.OpData()
                o.key = op.key
                switch op {
                case .set(_, let v): o.value = v; o.remove = false
                case .remove: o.value = 0; o.remove = true
                }
                return o
            }
            r.entries.append(e)
        }
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !r.entries.isEmpty {
            let resp = try await send("alterClientQuotas", r)
            for e in resp.entries {
                let entity = ClientQuotaEntity(e.entity.compactMap { c in QuotaEntityType(rawValue: c.entityType).map { QuotaEntityComponent($0, c.entityName) } })
                answers[entity.description] = KafkaAdminError.from(e.errorCode, message: e.errorMessage).map { .failure($0) } ?? .success(AdminDone())
            }
        }
        return Self.results(alterations, problems: problems, name: \.entity.description) { answers[$0] }
    }
}
