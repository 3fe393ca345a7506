/// The cluster's ACLs, kept in the order they were created (answers list them in that
/// order, so they do not depend on hashing). Matching follows Kafka's AclBindingFilter:
/// ANY matches every value; a MATCH pattern filter finds the literal ACL of that name, the
/// literal wildcard "*" and every prefixed ACL whose prefix starts the name.
struct AclStore: Sendable, Equatable {
    struct Acl: Sendable, Hashable {
        var resourceType: Int8
        var resourceName: String
        var patternType: Int8
        var principal: String
        var host: String
        var operation: Int8
        var permission: Int8
    }

    struct Filter: Sendable, Equatable {
        var resourceType: Int8
        var resourceName: String?
        var patternType: Int8
        var principal: String?
        var host: String?
        var operation: Int8
        var permission: Int8
    }

    // Wire values (Kafka's ResourceType, PatternType, AclOperation, AclPermissionType).
    static let any: Int8 = 1
    static let match: Int8 = 2
    static let literal: Int8 = 3
    static let prefixed: Int8 = 4
    static let clusterType: Int8 = 4
    static let resourceTypes: ClosedRange<Int8> = 2 ... 7
    static let operations: ClosedRange<Int8> = 2 ... 14
    static let permissions: ClosedRange<Int8> = 2 ... 3

    private(set) var acls: [Acl] = []

    /// Why Kafka would refuse to store `a`, or nil.
    static func problem(_ a: Acl) -> String? {
        if !resourceTypes.contains(a.resourceType) { return "Invalid resource type \(a.resourceType)" }
        if a.patternType != literal && a.patternType != prefixed { return "Invalid pattern type \(a.patternType)" }
        if a.resourceName.isEmpty { return "Resource name should not be empty" }
        if a.resourceType == clusterType && a.resourceName != "kafka-cluster" { return "The only valid name for the CLUSTER resource is kafka-cluster" }
        if !operations.contains(a.operation) { return "Invalid operation \(a.operation)" }
        if !permissions.contains(a.permission) { return "Invalid permission type \(a.permission)" }
        guard let colon = a.principal.firstIndex(of: ":"), colon != a.principal.startIndex,
              a.principal.index(after: colon) != a.principal.endIndex else { return "Could not parse principal \(a.principal)" }
        if a.host.isEmpty { return "Invalid host" }
        return nil
    }

    /// Why Kafka would refuse `f` as a filter, or nil.
    static func problem(_ f: Filter) -> String? {
        if f.resourceType != any && !resourceTypes.contains(f.resourceType) { return "Invalid resource type filter \(f.resourceType)" }
        if !(any ... prefixed).contains(f.patternType) { return "Invalid pattern type filter \(f.patternType)" }
        if f.operation != any && !operations.contains(f.operation) { return "Invalid operation filter \(f.operation)" }
        if f.permission != any && !permissions.contains(f.permission) { return "Invalid permission filter \(f.permission)" }
        return nil
    }

    static func matches(_ f: Filter, _ a: Acl) -> Bool {
        if f.resourceType != any && f.resourceType != a.resourceType { return false }
        if f.patternType != any && f.patternType != match && f.patternType != a.patternType { return false }
        if let name = f.resourceName {
            if f.patternType == match {
                switch a.patternType {
                case literal: if !(a.resourceName == name || a.resourceName == "*") { return false }
                case prefixed: if !name.hasPrefix(a.resourceName) { return false }
                default: return false
                }
            } else if name != a.resourceName {
                return false
            }
        }
        if let p = f.principal, p != a.principal { return false }
        if let h = f.host, h != a.host { return false }
        if f.operation != any && f.operation != a.operation { return false }
        if f.permission != any && f.permission != a.permission { return false }
        return true
    }

    /// Adds `a` unless it is there already (creating an existing ACL succeeds).
    mutating func add(_ a: Acl) {
        if !acls.contains(a) { acls.append(a) }
    }

    func matching(_ f: Filter) -> [Acl] { acls.filter { Self.matches(f, $0) } }

    /// Deletes what each filter matches; an ACL two filters match is reported under the first.
    mutating func delete(_ filters: [Filter]) -> [[Acl]] {
        var taken: Set<Acl> = []
        let out = filters.map { f in
            acls.filter { a in Self.matches(f, a) && taken.insert(a).inserted }
        }
        acls.removeAll { taken.contains($0) }
        return out
    }
}
