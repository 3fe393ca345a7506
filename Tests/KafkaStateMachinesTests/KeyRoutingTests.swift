import Testing
@testable import KafkaStateMachines

private func describeGroups(_ groups: [String]) -> DescribeGroupsRequest {
    var r = DescribeGroupsRequest()
    r.groups = groups
    return r
}

/// A coordinator's DescribeGroups answer: each asked group Stable, or `error` for `errorFor`.
private func describedGroups(_ req: SeenRequest, errorFor: Set<String> = [], error: KafkaErrorCode = .noError) -> [UInt8] {
    var resp = DescribeGroupsResponse()
    resp.groups = (req.body as! DescribeGroupsRequest).groups.map { g in
        var d = DescribeGroupsResponse.DescribedGroup()
        d.groupId = g
        d.groupState = errorFor.contains(g) ? "" : "Stable"
        d.errorCode = errorFor.contains(g) ? error.rawValue : 0
        return d
    }
    return respond(req, resp)
}

private func findFailed(_ key: String, _ code: KafkaErrorCode) -> FindCoordinatorResponse {
    var r = FindCoordinatorResponse()
    var c = FindCoordinatorResponse.Coordinator()
    c.key = key
    c.errorCode = code.rawValue
    c.errorMessage = "denied"
    r.coordinators = [c]
    return r
}

private func summary(_ r: DescribeGroupsResponse) -> [String] {
    r.groups.map { "\($0.groupId)=\($0.groupState)/\($0.errorCode)" }
}

@Suite struct KeyRoutingTests {
    /// DescribeGroups naming four groups: one FindCoordinator per group; the two groups
    /// sharing coordinator 1 go in one request, the third to coordinator 2; the fourth,
    /// whose lookup was refused, is answered with that error in its slot; the merged answer
    /// keeps the request's order.
    @Test func describeGroupsBatchedPerCoordinatorWithOneLookupFailing() {
        var h = Harness(Harness.config())
        _ = h.request(describeGroups(["a", "d", "b", "c"]), promise: 1)
        let finds = decodeWrites(h.handshake(1))
        #expect(finds.map { ($0.body as! FindCoordinatorRequest).coordinatorKeys } == [["a"], ["d"], ["b"], ["c"]])
        #expect(finds.allSatisfy { ($0.body as! FindCoordinatorRequest).keyType == 0 })
        #expect(opens(h.receive(1, respond(finds[0], coordinator("a", node: 1)))).isEmpty)
        #expect(completions(h.receive(1, respond(finds[1], findFailed("d", KafkaErrorCode(30))))).isEmpty)
        #expect(opens(h.receive(1, respond(finds[2], coordinator("b", node: 1)))).isEmpty)
        let routed = h.receive(1, respond(finds[3], coordinator("c", node: 2)))
        #expect(opens(routed).map(\.1) == [.node(1), .node(2)])
        let toNode1 = decodeWrites(h.handshake(2))
        let toNode2 = decodeWrites(h.handshake(3))
        #expect(toNode1.map { ($0.body as! DescribeGroupsRequest).groups } == [["a", "b"]])
        #expect(toNode2.map { ($0.body as! DescribeGroupsRequest).groups } == [["c"]])
        // Node 2 answers first: the merge still follows the request's order.
        #expect(completions(h.receive(3, describedGroups(toNode2[0]))).isEmpty)
        let done = h.receive(2, describedGroups(toNode1[0]))
        let merged = try! #require(success(done, 1, as: DescribeGroupsResponse.self))
        #expect(summary(merged) == ["a=Stable/0", "d=/30", "b=Stable/0", "c=Stable/0"])
    }

    /// A group whose coordinator moved (NOT_COORDINATOR in its slot) is looked up again and
    /// asked at its new coordinator; the groups already answered are kept.
    @Test func movedGroupIsAskedAgainAtItsNewCoordinator() {
        var h = Harness(Harness.config())
        _ = h.request(describeGroups(["a", "b"]), promise: 1)
        let finds = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(finds[0], coordinator("a", node: 1)))
        _ = h.receive(1, respond(finds[1], coordinator("b", node: 1)))
        let ask = decodeWrites(h.handshake(2))
        #expect(ask.map { ($0.body as! DescribeGroupsRequest).groups } == [["a", "b"]])
        let refind = decodeWrites(h.receive(2, describedGroups(ask[0], errorFor: ["b"], error: .notCoordinator)))
        #expect(refind.map { ($0.body as! FindCoordinatorRequest).coordinatorKeys } == [["b"]])
        let routed = h.receive(1, respond(refind[0], coordinator("b", node: 2)))
        #expect(opens(routed).map(\.1) == [.node(2)])
        let again = decodeWrites(h.handshake(3))
        #expect(again.map { ($0.body as! DescribeGroupsRequest).groups } == [["b"]])
        let merged = try! #require(success(h.receive(3, describedGroups(again[0])), 1, as: DescribeGroupsResponse.self))
        #expect(summary(merged) == ["a=Stable/0", "b=Stable/0"])
    }

    /// A part whose broker cannot be reached (its retries spent) is not left as an error
    /// at once: its groups are looked up again (the coordinator may have moved off a dead
    /// broker) and asked at the coordinator named now.
    @Test func partLostWithItsBrokerIsLookedUpAgain() {
        var h = Harness(Harness.config())
        _ = h.request(describeGroups(["a"]), maxRetries: 1, promise: 1)
        let finds = decodeWrites(h.handshake(1))
        let routed = h.receive(1, respond(finds[0], coordinator("a", node: 1)))
        #expect(opens(routed).map(\.1) == [.node(1)])
        // The part's own retry goes to broker 1 again after its backoff, and fails too.
        h.engine.connectionFailed(ConnectionID(2), reason: .refused("test"), now: h.now)
        #expect(completions(h.drain()).isEmpty)
        let again = h.advance(to: 1000)
        #expect(opens(again).map(\.1) == [.node(1)])
        h.engine.connectionFailed(opens(again)[0].0, reason: .refused("test"), now: h.now)
        let refind = decodeWrites(h.drain())
        #expect(refind.map { ($0.body as! FindCoordinatorRequest).coordinatorKeys } == [["a"]])
        let moved = h.receive(1, respond(refind[0], coordinator("a", node: 2)))
        #expect(opens(moved).map(\.1) == [.node(2)])
        let ask = decodeWrites(h.handshake(opens(moved)[0].0.rawValue))
        let merged = try! #require(success(h.receive(opens(moved)[0].0.rawValue, describedGroups(ask[0])), 1, as: DescribeGroupsResponse.self))
        #expect(summary(merged) == ["a=Stable/0"])
    }

    /// DescribeTransactions: transactional ids looked up as transaction keys (type 1), the
    /// two sharing coordinator 3 sent together.
    @Test func describeTransactionsBatchedPerTransactionCoordinator() {
        var h = Harness(Harness.config())
        var r = DescribeTransactionsRequest()
        r.transactionalIds = ["t1", "t2"]
        _ = h.request(r, promise: 1)
        let finds = decodeWrites(h.handshake(1))
        #expect(finds.map { ($0.body as! FindCoordinatorRequest).keyType } == [1, 1])
        _ = h.receive(1, respond(finds[0], coordinator("t1", node: 3)))
        let routed = h.receive(1, respond(finds[1], coordinator("t2", node: 3)))
        #expect(opens(routed).map(\.1) == [.node(3)])
        let ask = decodeWrites(h.handshake(2))
        #expect(ask.map { ($0.body as! DescribeTransactionsRequest).transactionalIds } == [["t1", "t2"]])
        var resp = DescribeTransactionsResponse()
        resp.transactionStates = ["t2", "t1"].map { var t = DescribeTransactionsResponse.TransactionState(); t.transactionalId = $0; t.transactionState = "Ongoing"; return t }
        let merged = try! #require(success(h.receive(2, respond(ask[0], resp)), 1, as: DescribeTransactionsResponse.self))
        #expect(merged.transactionStates.map(\.transactionalId) == ["t1", "t2"])
    }

    /// ListGroups goes to every broker in the metadata (fetched first) and the lists are
    /// merged in broker order; a broker's error is the merged error, the others' groups kept.
    @Test func listGroupsAsksEveryBrokerAndMerges() {
        var h = Harness(Harness.config())
        _ = h.request(ListGroupsRequest(), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        #expect(meta.map(\.apiKey) == [.metadata])
        let routed = h.receive(1, respond(meta[0], metadataResponse(brokers: [3, 1, 2])))
        #expect(opens(routed).map(\.1) == [.node(1), .node(2), .node(3)])
        var answers: [(UInt64, SeenRequest)] = []
        for c in [UInt64(2), 3, 4] {
            let w = decodeWrites(h.handshake(c))
            #expect(w.map(\.apiKey) == [.listGroups])
            answers.append((c, w[0]))
        }
        func listed(_ names: [String], error: KafkaErrorCode = .noError) -> ListGroupsResponse {
            var r = ListGroupsResponse()
            r.errorCode = error.rawValue
            r.groups = names.map { var g = ListGroupsResponse.ListedGroup(); g.groupId = $0; return g }
            return r
        }
        _ = h.receive(4, respond(answers[2].1, listed(["g3"])))
        _ = h.receive(3, respond(answers[1].1, listed([], error: .coordinatorLoadInProgress)))
        let done = h.receive(2, respond(answers[0].1, listed(["g1a", "g1b"])))
        let merged = try! #require(success(done, 1, as: ListGroupsResponse.self))
        #expect(merged.groups.map(\.groupId) == ["g1a", "g1b", "g3"])
        #expect(merged.errorCode == KafkaErrorCode.coordinatorLoadInProgress.rawValue)
    }

    /// Config resources: BROKER and BROKER_LOGGER resources to the broker they name, the rest
    /// (and the cluster default, an empty broker name) to any broker; failures per resource.
    @Test func configResourcesPlannedByNamedBroker() {
        var r = DescribeConfigsRequest()
        r.resources = [(2, "t"), (4, "2"), (8, "1"), (4, ""), (4, "2")].map { type, name in
            var x = DescribeConfigsRequest.DescribeConfigsResource()
            x.resourceType = Int8(type)
            x.resourceName = name
            return x
        }
        let sharder = KeySharding.describeConfigs()
        let keys = sharder.keys(of: r)
        let plan = KeySharding.plan(keys) { KeySharding.namedBroker(ofKey: $0) }
        #expect(plan.map(\.0) == [nil, 1, 2])
        #expect(plan.map(\.1) == [["2/t", "4/"], ["8/1"], ["4/2", "4/2"]])
        let toBroker2 = sharder.subset(r, keeping: ["4/2"]) as! DescribeConfigsRequest
        #expect(toBroker2.resources.map(\.resourceName) == ["2", "2"])
        var answer = DescribeConfigsResponse()
        var t = DescribeConfigsResponse.DescribeConfigsResult()
        t.resourceType = 2
        t.resourceName = "t"
        answer.results = [t]
        let merged = sharder.merge([answer], failed: [("8/1", .networkException)], order: keys) as! DescribeConfigsResponse
        #expect(merged.results.map { "\($0.resourceType)/\($0.resourceName)=\($0.errorCode)" } == ["2/t=0", "8/1=13"])
    }

    /// A DescribeConfigs for a topic and broker 2: the topic part to any broker, the broker
    /// part to broker 2 once metadata names it; one merged answer.
    @Test func describeConfigsOfABrokerGoesToThatBroker() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1, 2])))
        var r = DescribeConfigsRequest()
        r.resources = [(2, "t"), (4, "2")].map { type, name in
            var x = DescribeConfigsRequest.DescribeConfigsResource()
            x.resourceType = Int8(type)
            x.resourceName = name
            return x
        }
        // Two parts: the topic to any broker, broker 2's resource to broker 2 (any broker may
        // happen to be broker 2 as well: each part is its own request).
        let sent = opens(h.request(r, promise: 2))
        var parts: [(BrokerID, SeenRequest)] = []
        for (c, broker) in sent { parts += decodeWrites(h.handshake(c.rawValue)).map { (broker, $0) } }
        let names = parts.map { ($0.0, ($0.1.body as! DescribeConfigsRequest).resources.map(\.resourceName)) }
        #expect(names.map(\.1).sorted { $0.joined() < $1.joined() } == [["2"], ["t"]])
        #expect(names.first { $0.1 == ["2"] }?.0 == .node(2))
        let toAny = parts.filter { ($0.1.body as! DescribeConfigsRequest).resources.map(\.resourceName) == ["t"] }.map(\.1)
        let toBroker2 = parts.filter { ($0.1.body as! DescribeConfigsRequest).resources.map(\.resourceName) == ["2"] }.map(\.1)
        func answer(_ req: SeenRequest) -> [UInt8] {
            var resp = DescribeConfigsResponse()
            resp.results = (req.body as! DescribeConfigsRequest).resources.map { x in
                var e = DescribeConfigsResponse.DescribeConfigsResult()
                e.resourceType = x.resourceType
                e.resourceName = x.resourceName
                return e
            }
            return respond(req, resp)
        }
        guard toAny.count == 1, toBroker2.count == 1 else { return }
        // Answered in the order written (they may share broker 2's connection).
        var done: [Action] = []
        for (_, req) in parts { done = h.receive(req.connection.rawValue, answer(req)) }
        let merged = try! #require(success(done, 2, as: DescribeConfigsResponse.self))
        #expect(merged.results.map(\.resourceName) == ["t", "2"])
    }
}
