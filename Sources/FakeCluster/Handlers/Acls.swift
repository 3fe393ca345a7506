/// CreateAcls, DescribeAcls and DeleteAcls over the cluster's AclStore. Invalid ACLs and
/// filters get INVALID_REQUEST with Kafka's reason, per item where the API has items.
extension FakeCluster {
    mutating func handleCreateAcls(_ r: CreateAclsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreateAclsResponse()
        let refused = clusterRefusal(ctx, .alter)
        for c in r.creations {
            let acl = AclStore.Acl(resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType,
                                   principal: c.principal, host: c.host, operation: c.operation, permission: c.permissionType)
            var res = CreateAclsResponse.AclCreationResult()
            if let refused {
                res.errorCode = refused.code
                res.errorMessage = "Authorization failed."
            } else if let why = AclStore.problem(acl) {
                res.errorCode = KafkaErrorCode.invalidRequest.code
                res.errorMessage = why
            } else {
                state.acls.add(acl)
                res.errorMessage = nil
            }
            resp.results.append(res)
        }
        return .respond(resp)
    }

    func handleDescribeAcls(_ r: DescribeAclsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeAclsResponse()
        if let e = clusterRefusal(ctx, .describe) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            return .respond(resp)
        }
        let f = AclStore.Filter(resourceType: r.resourceTypeFilter, resourceName: r.resourceNameFilter, patternType: r.patternTypeFilter,
                                principal: r.principalFilter, host: r.hostFilter, operation: r.operation, permission: r.permissionType)
        if let why = AclStore.problem(f) {
            resp.errorCode = KafkaErrorCode.invalidRequest.code
            resp.errorMessage = why
            return .respond(resp)
        }
        resp.errorMessage = nil
        // One entry per resource, in the order each resource's first ACL was created.
        for a in state.acls.matching(f) {
            var d = DescribeAclsResponse.AclDescription()
            d.principal = a.principal
            d.host = a.host
            d.operation = a.operation
            d.permissionType = a.permission
            if let i = resp.resources.firstIndex(where: { $0.resourceType == a.resourceType && $0.resourceName == a.resourceName && $0.patternType == a.patternType }) {
                resp.resources[i].acls.append(d)
            } else {
                var res = DescribeAclsResponse.DescribeAclsResource()
                res.resourceType = a.resourceType
                res.resourceName = a.resourceName
                res.patternType = a.patternType
                res.acls = [d]
                resp.resources.append(res)
            }
        }
        return .respond(resp)
    }

    mutating func handleDeleteAcls(_ r: DeleteAclsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DeleteAclsResponse()
        if let e = clusterRefusal(ctx, .alter) {
            resp.filterResults = r.filters.map { _ in
                var res = DeleteAclsResponse.DeleteAclsFilterResult()
                res.errorCode = e.code
                res.errorMessage = "Authorization failed."
                return res
            }
            return .respond(resp)
        }
        let filters = r.filters.map {
            AclStore.Filter(resourceType: $0.resourceTypeFilter, resourceName: $0.resourceNameFilter, patternType: $0.patternTypeFilter,
                            principal: $0.principalFilter, host: $0.hostFilter, operation: $0.operation, permission: $0.permissionType)
        }
        let problems = filters.map(AclStore.problem)
        let deleted = state.acls.delete(filters.indices.map { problems[$0] == nil ? filters[$0] : nil }.compactMap { $0 })
        var next = deleted.makeIterator()
        for why in problems {
            var res = DeleteAclsResponse.DeleteAclsFilterResult()
            if let why {
                res.errorCode = KafkaErrorCode.invalidRequest.code
                res.errorMessage = why
            } else {
                res.errorMessage = nil
                res.matchingAcls = (next.next() ?? []).map { a in
                    var m = DeleteAclsResponse.DeleteAclsMatchingAcl()
                    m.errorMessage = nil
                    m.resourceType = a.resourceType
                    m.resourceName = a.resourceName
                    m.patternType = a.patternType
                    m.principal = a.principal
                    m.host = a.host
                    m.operation = a.operation
                    m.permissionType = a.permission
                    return m
                }
            }
            resp.filterResults.append(res)
        }
        return .respond(resp)
    }
}
