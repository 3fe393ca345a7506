import KafkaProtocol
import KafkaStateMachines

/// What an ACL protects (the wire's resource type). `any` is for filters only.
public enum AclResourceType: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case any = 1, topic = 2, group = 3, cluster = 4, transactionalId = 5, delegationToken = 6, user = 7

    /// The wire name (TOPIC, GROUP, …).
    public var description: String {
        switch self {
        case .any: return "ANY"
        case .topic: return "TOPIC"
        case .group: return "GROUP"
        case .cluster: return "CLUSTER"
        case .transactionalId: return "TRANSACTIONAL_ID"
        case .delegationToken: return "DELEGATION_TOKEN"
        case .user: return "USER"
        }
    }
}

/// How an ACL's resource name is matched (KIP-290). `any` and `match` are for filters:
/// `match` finds every ACL that applies to the filter's name (literal, `*` and prefixes).
public enum AclPatternType: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case any = 1, match = 2, literal = 3, prefixed = 4

    /// The wire name (LITERAL, PREFIXED, …).
    public var description: String {
        switch self {
        case .any: return "ANY"
        case .match: return "MATCH"
        case .literal: return "LITERAL"
        case .prefixed: return "PREFIXED"
        }
    }
}

/// What an ACL allows or denies (the wire's operation). `any` is for filters only.
public enum AclOperation: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case any = 1, all = 2, read = 3, write = 4, create = 5, delete = 6, alter = 7, describe = 8, clusterAction = 9
    case describeConfigs = 10, alterConfigs = 11, idempotentWrite = 12, createTokens = 13, describeTokens = 14

    /// The wire name (READ, WRITE, …).
    public var description: String {
        switch self {
        case .any: return "ANY"
        case .all: return "ALL"
        case .read: return "READ"
        case .write: return "WRITE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .alter: return "ALTER"
        case .describe: return "DESCRIBE"
        case .clusterAction: return "CLUSTER_ACTION"
        case .describeConfigs: return "DESCRIBE_CONFIGS"
        case .alterConfigs: return "ALTER_CONFIGS"
        case .idempotentWrite: return "IDEMPOTENT_WRITE"
        case .createTokens: return "CREATE_TOKENS"
        case .describeTokens: return "DESCRIBE_TOKENS"
        }
    }
}

extension AclOperation {
    /// The operations a KIP-430 authorized-operations bit field lists (bit n set: the
    /// operation with wire value n), or nil for Int32.min, the value of a field not asked
    /// for. Bits that name no operation are ignored.
    public static func operations(authorizedBits bits: Int32) -> Set<AclOperation>? {
        guard bits != Int32.min else { return nil }
        return Set(allCases.filter { (bits >> Int32($0.rawValue)) & 1 == 1 })
    }
}

/// Allow or deny. `any` is for filters only.
public enum AclPermission: Int8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case any = 1, deny = 2, allow = 3

    /// The wire name (ALLOW, DENY, ANY).
    public var description: String {
        switch self {
        case .any: return "ANY"
        case .deny: return "DENY"
        case .allow: return "ALLOW"
        }
    }
}

/// One ACL: `principal` from `host` is allowed or denied `operation` on the resources
/// `resourceName` names under `patternType`.
public struct AclBinding: Sendable, Hashable, CustomStringConvertible {
    /// The kind of resource.
    public var resourceType: AclResourceType
    /// The resource's name, or a prefix (`patternType`); "*" for every one.
    public var resourceName: String
    /// How `resourceName` matches: literal or prefixed.
    public var patternType: AclPatternType
    /// "User:alice" (a principal type, a colon and a name); "User:*" for every user.
    public var principal: String
    /// "*" for every host.
    public var host: String
    /// The operation allowed or denied.
    public var operation: AclOperation
    /// Allow or deny.
    public var permission: AclPermission

    /// An ACL; by default a literal name, every host, allowed.
    public init(_ resourceType: AclResourceType, _ resourceName: String, patternType: AclPatternType = .literal,
                principal: String, host: String = "*", operation: AclOperation, permission: AclPermission = .allow) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// One line: permission, principal@host, operation and resource.
    public var description: String {
        "\(permission) \(principal)@\(host) \(operation) \(resourceType):\(patternType):\(resourceName)"
    }

    /// Why a broker would refuse to store this ACL, or nil.
    var problem: String? {
        if resourceType == .any { return "an ACL names one resource type, not ANY" }
        if patternType != .literal && patternType != .prefixed { return "an ACL's pattern type is LITERAL or PREFIXED" }
        if resourceName.isEmpty { return "empty resource name" }
        if patternType == .prefixed && resourceName == "*" { return "a PREFIXED ACL cannot name \"*\"" }
        if operation == .any { return "an ACL names one operation (or ALL), not ANY" }
        if permission == .any { return "an ACL is ALLOW or DENY, not ANY" }
        if let p = AclFilter.principalProblem(principal) { return p }
        if host.isEmpty { return "empty host (\"*\" is every host)" }
        return nil
    }
}

/// Which ACLs a describe or delete acts on. nil name, principal or host match any.
public struct AclFilter: Sendable, Hashable, CustomStringConvertible {
    /// The kind of resource (`any`: every kind).
    public var resourceType: AclResourceType
    /// The name to match (nil: any).
    public var resourceName: String?
    /// How to match the name (`match` finds every ACL that applies to it).
    public var patternType: AclPatternType
    /// The principal, "User:alice" (nil: any).
    public var principal: String?
    /// The host (nil: any).
    public var host: String?
    /// The operation (`any`: every one).
    public var operation: AclOperation
    /// Allow, deny or `any`.
    public var permission: AclPermission

    /// A filter; every part left out matches anything.
    public init(_ resourceType: AclResourceType = .any, _ resourceName: String? = nil, patternType: AclPatternType = .any,
                principal: String? = nil, host: String? = nil, operation: AclOperation = .any, permission: AclPermission = .any) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// Every ACL.
    public static let all = AclFilter()

    /// One line naming what the filter matches.
    public var description: String {
        "\(permission) \(principal ?? "any")@\(host ?? "any") \(operation) \(resourceType):\(patternType):\(resourceName ?? "any")"
    }

    var problem: String? {
        if let p = principal, let why = Self.principalProblem(p) { return why }
        return nil
    }

    /// Kafka parses a principal as "Type:name".
    static func principalProblem(_ p: String) -> String? {
        guard let colon = p.firstIndex(of: ":"), colon != p.startIndex, p.index(after: colon) != p.endIndex else {
            return "principal \"\(p)\" is not of the form Type:name (User:alice)"
        }
        return nil
    }

    var wire: (type: Int8, name: String?, pattern: Int8, principal: String?, host: String?, operation: Int8, permission: Int8) {
        (resourceType.rawValue, resourceName, patternType.rawValue, principal, host, operation.rawValue, permission.rawValue)
    }
}

extension KafkaAdmin {
    /// ACLs (CreateAcls, Kafka 2.0+ for pattern types). Creating an ACL that exists is a success.
    public func createACLs(_ acls: [AclBinding]) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let problems = Self.problems(acls, name: \.description) { a in a.problem.map { .invalidArgument(a.description, reason: $0) } }
        let sent = acls.indices.filter { problems[$0] == nil }
        var answers: [Int: Result<AdminDone, KafkaAdminError>] = [:]
        if !sent.isEmpty {
            var r = CreateAclsRequest()
            r.creations = sent.map { i in
                let a = acls[i]
                var c = CreateAclsRequest.AclCreation()
                c.resourceType = a.resourceType.rawValue
                c.resourceName = a.resourceName
                c.resourcePatternType = a.patternType.rawValue
                c.principal = a.principal
                c.host = a.host
                c.operation = a.operation.rawValue
                c.permissionType = a.permission.rawValue
                return c
            }
            let resp = try await send("createACLs", r, pin: 1 ... CreateAclsRequest.validVersions.upperBound)
            // Results come in the creations' order.
            for (i, res) in zip(sent, resp.results) {
                answers[i] = KafkaAdminError.from(res.errorCode, message: res.errorMessage).map { .failure($0) } ?? .success(AdminDone())
            }
        }
        return acls.indices.map { i in
            let n = acls[i].description
            if let p = problems[i] { return AdminResult(n, .failure(p)) }
            return AdminResult(n, answers[i] ?? .failure(.missingFromAnswer(n)))
        }
    }

    /// The ACLs `filter` matches, in the broker's order.
    public func describeACLs(_ filter: AclFilter = .all) async throws(KafkaAdminError) -> [AclBinding] {
        if let p = filter.problem { throw .invalidArgument(filter.description, reason: p) }
        let w = filter.wire
        var r = DescribeAclsRequest()
        r.resourceTypeFilter = w.type
        r.resourceNameFilter = w.name
        r.patternTypeFilter = w.pattern
        r.principalFilter = w.principal
        r.hostFilter = w.host
        r.operation = w.operation
        r.permissionType = w.permission
        let resp = try await send("describeACLs", r, pin: 1 ... DescribeAclsRequest.validVersions.upperBound)
        if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
        var out: [AclBinding] = []
        for res in resp.resources {
            for a in res.acls {
                guard let b = Self.binding(res.resourceType, res.resourceName, res.patternType, a.principal, a.host, a.operation, a.permissionType) else {
                    throw .invalidArgument("describeACLs", reason: "the broker answered an ACL with an unknown type, pattern, operation or permission")
                }
                out.append(b)
            }
        }
        return out
    }

    /// Deletes the ACLs each filter matches; each filter's result is the ACLs it deleted.
    public func deleteACLs(_ filters: [AclFilter]) async throws(KafkaAdminError) -> [AdminResult<[AclBinding]>] {
        let problems = Self.problems(filters, name: \.description) { f in f.problem.map { .invalidArgument(f.description, reason: $0) } }
        let sent = filters.indices.filter { problems[$0] == nil }
        var answers: [Int: Result<[AclBinding], KafkaAdminError>] = [:]
        if !sent.isEmpty {
            var r = DeleteAclsRequest()
            r.filters = sent.map { i in
                let w = filters[i].wire
                var f = DeleteAclsRequest.DeleteAclsFilter()
                f.resourceTypeFilter = w.type
                f.resourceNameFilter = w.name
                f.patternTypeFilter = w.pattern
                f.principalFilter = w.principal
                f.hostFilter = w.host
                f.operation = w.operation
                f.permissionType = w.permission
                return f
            }
            let resp = try await send("deleteACLs", r, pin: 1 ... DeleteAclsRequest.validVersions.upperBound)
            for (i, res) in zip(sent, resp.filterResults) {
                if let e = KafkaAdminError.from(res.errorCode, message: res.errorMessage) { answers[i] = .failure(e); continue }
                var deleted: [AclBinding] = []
                var failure: KafkaAdminError?
                for m in res.matchingAcls {
                    if let e = KafkaAdminError.from(m.errorCode, message: m.errorMessage) { failure = failure ?? e; continue }
                    guard let b = Self.binding(m.resourceType, m.resourceName, m.patternType, m.principal, m.host, m.operation, m.permissionType) else {
                        failure = failure ?? .invalidArgument(filters[i].description, reason: "the broker answered an ACL with an unknown value")
                        continue
                    }
                    deleted.append(b)
                }
                answers[i] = failure.map { .failure($0) } ?? .success(deleted)
            }
        }
        return filters.indices.map { i in
            let n = filters[i].description
            if let p = problems[i] { return AdminResult(n, .failure(p)) }
            return AdminResult(n, answers[i] ?? .failure(.missingFromAnswer(n)))
        }
    }

    static func binding(_ type: Int8, _ name: String, _ pattern: Int8, _ principal: String, _ host: String,
                        _ operation: Int8, _ permission: Int8) -> AclBinding? {
        guard let t = AclResourceType(rawValue: type), let p = AclPatternType(rawValue: pattern),
              let o = AclOperation(rawValue: operation), let m = AclPermission(rawValue: permission) else { return nil }
        return AclBinding(t, name, patternType: p, principal: principal, host: host, operation: o, permission: m)
    }
}
