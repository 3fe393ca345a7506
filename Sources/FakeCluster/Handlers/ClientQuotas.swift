/// DescribeClientQuotas and AlterClientQuotas over the cluster's QuotaStore, validated as
/// Kafka does (entity combinations, quota keys per entity kind, positive values).
extension FakeCluster {
    func handleDescribeClientQuotas(_ r: DescribeClientQuotasRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeClientQuotasResponse()
        func refuse(_ why: String) -> HandlerResult {
            resp.errorCode = KafkaErrorCode.invalidRequest.code
            resp.errorMessage = why
            resp.entries = nil
            return .respond(resp)
        }
        if let e = clusterRefusal(ctx, .describeConfigs) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            resp.entries = nil
            return .respond(resp)
        }
        var filter: [(type: String, match: QuotaStore.Match)] = []
        for c in r.components {
            if filter.contains(where: { $0.type == c.entityType }) { return refuse("Duplicate entity type \(c.entityType)") }
            switch (c.matchType, c.match) {
            case (0, let name?): filter.append((c.entityType, .exact(name)))
            case (1, _): filter.append((c.entityType, .defaultEntity))
            case (2, _): filter.append((c.entityType, .any))
            default: return refuse("Unexpected match type \(c.matchType) for entity type \(c.entityType)")
            }
        }
        resp.errorMessage = nil
        resp.entries = state.quotas.matching(filter, strict: r.strict).map { e in
            var d = DescribeClientQuotasResponse.EntryData()
            d.entity = e.entity.parts.map { p in
                var x = DescribeClientQuotasResponse.EntityData()
                x.entityType = p.type
                x.entityName = p.name
                return x
            }
            d.values = e.values.map { v in
                var x = DescribeClientQuotasResponse.ValueData()
                x.key = v.key
                x.value = v.value
                return x
            }
            return d
        }
        return .respond(resp)
    }

    mutating func handleAlterClientQuotas(_ r: AlterClientQuotasRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterClientQuotasResponse()
        let refused = clusterRefusal(ctx, .alterConfigs)
        for e in r.entries {
            let entity = QuotaStore.Entity(e.entity.map { QuotaStore.Entity.Part(type: $0.entityType, name: $0.entityName) })
            var out = AlterClientQuotasResponse.EntryData()
            out.entity = e.entity.map { d in
                var x = AlterClientQuotasResponse.EntityData()
                x.entityType = d.entityType
                x.entityName = d.entityName
                return x
            }
            let ops = e.ops.map { (key: $0.key, value: $0.remove ? nil : Optional($0.value)) }
            var why = QuotaStore.problem(entity)
            if why == nil {
                for op in ops { if let p = QuotaStore.problem(entity, key: op.key, value: op.value) { why = p; break } }
            }
            if why == nil && Set(ops.map(\.key)).count != ops.count { why = "Duplicate quota key" }
            if let refused {
                out.errorCode = refused.code
                out.errorMessage = "Authorization failed."
            } else if let why {
                out.errorCode = KafkaErrorCode.invalidRequest.code
                out.errorMessage = why
            } else {
                out.errorMessage = nil
                if !r.validateOnly { state.quotas.apply(entity, ops) }
            }
            resp.entries.append(out)
        }
        return .respond(resp)
    }
}

extension FakeCluster {
    /// Sets `key` of a client quota entity (a nil name: the type's default entity), or
    /// removes it with a nil value, as AlterClientQuotas would (for tests and the
    /// simulation). Returns why Kafka would refuse it, or nil once it is applied.
    public mutating func setClientQuota(_ key: String, _ value: Double?, entity: [(type: String, name: String?)]) -> String? {
        if let why = Self.clientQuotaProblem(key, value, entity: entity) { return why }
        state.quotas.apply(QuotaStore.Entity(entity.map { QuotaStore.Entity.Part(type: $0.type, name: $0.name) }), [(key: key, value: value)])
        return nil
    }

    /// Why Kafka would refuse setting `key` to `value` on the entity, or nil.
    public static func clientQuotaProblem(_ key: String, _ value: Double?, entity: [(type: String, name: String?)]) -> String? {
        let e = QuotaStore.Entity(entity.map { QuotaStore.Entity.Part(type: $0.type, name: $0.name) })
        return QuotaStore.problem(e) ?? QuotaStore.problem(e, key: key, value: value)
    }
}
