/// A group's members by id, their join order and the static members' instance ids: the
/// bookkeeping classic and KIP-848 groups share. Walks go through `order`, so nothing
/// observable depends on hashing.
struct MemberTable<Member: Equatable & Sendable>: Equatable, Sendable {
    private(set) var byId: [String: Member] = [:]
    /// Member ids in join order.
    private(set) var order: [String] = []
    /// instance id → member id.
    private(set) var byInstance: [String: String] = [:]

    var ordered: [Member] { order.map { byId[$0]! } }

    /// The earliest of `deadline` over the members. A minimum does not depend on the order
    /// visited, so this walks the table as stored instead of building `ordered` (a sorted
    /// copy, asked at every simulation step).
    func earliest(_ deadline: (Member) -> Instant?) -> Instant? {
        var d: Instant?
        for m in byId.values { if let t = deadline(m) { d = d.map { min($0, t) } ?? t } }
        return d
    }

    /// Adds or replaces the member `id` (a known id keeps its place in the join order).
    mutating func put(_ m: Member, id: String, instance: String?) {
        if byId[id] == nil { order.append(id) }
        byId[id] = m
        if let instance { byInstance[instance] = id }
    }

    mutating func update(_ id: String, _ body: (inout Member) -> Void) {
        guard var m = byId[id] else { return }
        body(&m)
        byId[id] = m
    }

    /// Removes `id`; its instance id is forgotten unless it already names another member.
    mutating func remove(_ id: String, instance: (Member) -> String?) -> Member? {
        guard let m = byId.removeValue(forKey: id) else { return nil }
        order.removeAll { $0 == id }
        if let inst = instance(m), byInstance[inst] == id { byInstance[inst] = nil }
        return m
    }

    /// A static member's record moves from `oldId` to `newId` in place (join order kept),
    /// `edit` renaming it; its instance id then names the new id.
    mutating func move(_ oldId: String, to newId: String, instance: (Member) -> String?,
                       _ edit: (inout Member) -> Void) -> Member? {
        guard var m = byId.removeValue(forKey: oldId) else { return nil }
        edit(&m)
        byId[newId] = m
        order = order.map { $0 == oldId ? newId : $0 }
        if let inst = instance(m) { byInstance[inst] = newId }
        return m
    }
}
