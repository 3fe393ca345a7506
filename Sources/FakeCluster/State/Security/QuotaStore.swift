/// Client quotas by entity (KIP-546), in the order entities first got a quota; an entity
/// whose last quota is removed is dropped. The byte rates are enforced per broker by
/// QuotaMeters (`limit` finds the entity that applies to a client).
struct QuotaStore: Sendable, Equatable {
    /// (type, name) pairs sorted by type; a nil name is the type's default entity.
    struct Entity: Sendable, Hashable {
        var parts: [Part]
        struct Part: Sendable, Hashable {
            var type: String
            var name: String?
        }

        init(_ parts: [Part]) { self.parts = parts.sorted { $0.type < $1.type } }
    }

    struct Entry: Sendable, Equatable {
        var entity: Entity
        /// Sorted by key.
        var values: [(key: String, value: Double)]

        static func == (a: Entry, b: Entry) -> Bool {
            a.entity == b.entity && a.values.map(\.key) == b.values.map(\.key) && a.values.map(\.value) == b.values.map(\.value)
        }
    }

    static let clientKeys: Set<String> = ["producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate"]
    static let ipKeys: Set<String> = ["connection_creation_rate"]

    private(set) var entries: [Entry] = []

    /// Why Kafka would refuse this entity, or nil.
    static func problem(_ e: Entity) -> String? {
        let types = e.parts.map(\.type)
        if types.isEmpty { return "Invalid empty client quota entity" }
        if Set(types).count != types.count { return "Duplicate entity type in \(types)" }
        for t in types where !["user", "client-id", "ip"].contains(t) { return "Unhandled client quota entity type: \(t)" }
        if types.contains("ip") && types.count > 1 { return "Invalid quota entity combination, IP entity should not be combined with User or ClientId" }
        if e.parts.contains(where: { $0.name?.isEmpty == true }) { return "Empty entity name" }
        return nil
    }

    /// Why Kafka would refuse setting or removing `key` on `e`, or nil.
    static func problem(_ e: Entity, key: String, value: Double?) -> String? {
        let allowed = e.parts.contains { $0.type == "ip" } ? ipKeys : clientKeys
        if !allowed.contains(key) { return "Invalid configuration key \(key)" }
        if let value, !(value > 0) || !value.isFinite { return "Illegal value for \(key): \(value)" }
        return nil
    }

    /// Applies `ops` (key, value or nil to remove) to `e` together.
    mutating func apply(_ e: Entity, _ ops: [(key: String, value: Double?)]) {
        var values = entries.first { $0.entity == e }?.values ?? []
        for op in ops {
            values.removeAll { $0.key == op.key }
            if let v = op.value { values.append((op.key, v)) }
        }
        values.sort { $0.key < $1.key }
        if let i = entries.firstIndex(where: { $0.entity == e }) {
            if values.isEmpty { entries.remove(at: i) } else { entries[i].values = values }
        } else if !values.isEmpty {
            entries.append(Entry(entity: e, values: values))
        }
    }

    /// The quota `key` for a client (its user principal's name and its client id), from the
    /// most specific entity that sets `key`, in Kafka's order (KIP-55): user and client-id,
    /// user and default client-id, user, default user and client-id, default user and
    /// default client-id, default user, client-id, default client-id. Also the names the
    /// quota is shared by (Kafka's metric tags): a level without a user part is shared by
    /// every user, one without a client-id part by every client of the user; "" for those.
    func limit(_ key: String, user: String, clientId: String) -> (value: Double, user: String, clientId: String)? {
        typealias P = Entity.Part
        func u(_ n: String?) -> P { P(type: "user", name: n) }
        func c(_ n: String?) -> P { P(type: "client-id", name: n) }
        let levels: [(parts: [P], user: String, clientId: String)] = [
            ([u(user), c(clientId)], user, clientId), ([u(user), c(nil)], user, clientId), ([u(user)], user, ""),
            ([u(nil), c(clientId)], user, clientId), ([u(nil), c(nil)], user, clientId), ([u(nil)], user, ""),
            ([c(clientId)], "", clientId), ([c(nil)], "", clientId),
        ]
        for level in levels {
            let entity = Entity(level.parts)
            if let v = entries.first(where: { $0.entity == entity })?.values.first(where: { $0.key == key })?.value {
                return (v, level.user, level.clientId)
            }
        }
        return nil
    }

    /// One filter component: exact name, the default entity, or any entity of the type.
    enum Match: Equatable {
        case exact(String), defaultEntity, any
    }

    func matching(_ filter: [(type: String, match: Match)], strict: Bool) -> [Entry] {
        entries.filter { entry in
            if strict && entry.entity.parts.count != filter.count { return false }
            return filter.allSatisfy { f in
                guard let part = entry.entity.parts.first(where: { $0.type == f.type }) else { return false }
                switch f.match {
                case .exact(let n): return part.name == n
                case .defaultEntity: return part.name == nil
                case .any: return true
                }
            }
        }
    }
}
