/// Answers built for `pushError` faults: the request's own response shape with the error
/// at request level (or on every partition where the API has no request-level code).
/// nil for APIs without a sensible place for an error: those are handled normally.
extension FakeCluster {
    func errorResponse(_ request: any KafkaRequest, code: Int16, _ ctx: RequestContext) -> HandlerResult? {
        switch request {
        case let r as ProduceRequest:
            var resp = ProduceResponse()
            resp.responses = r.topicData.map { t in
                var tr = ProduceResponse.TopicProduceResponse()
                tr.name = t.name
                tr.partitionResponses = t.partitionData.map {
                    var p = ProduceResponse.PartitionProduceResponse()
                    p.index = $0.index
                    p.errorCode = code
                    p.baseOffset = -1
                    return p
                }
                return tr
            }
            return r.acks == 0 ? .noResponse : .respond(resp)
        case let r as FetchRequest:
            var resp = FetchResponse()
            resp.responses = r.topics.map { t in
                var tr = FetchResponse.FetchableTopicResponse()
                tr.topic = t.topic
                tr.topicId = t.topicId
                tr.partitions = t.partitions.map {
                    var p = FetchResponse.PartitionData()
                    p.partitionIndex = $0.partition
                    p.errorCode = code
                    return p
                }
                return tr
            }
            return .respond(resp)
        case is FindCoordinatorRequest:
            var resp = FindCoordinatorResponse()
            if ctx.version < 4 {
                resp.errorCode = code
                resp.nodeId = -1
            } else if let r = request as? FindCoordinatorRequest {
                resp.coordinators = r.coordinatorKeys.map {
                    var c = FindCoordinatorResponse.Coordinator()
                    c.key = $0
                    c.nodeId = -1
                    c.errorCode = code
                    return c
                }
            }
            return .respond(resp)
        case is JoinGroupRequest:
            var resp = JoinGroupResponse()
            resp.errorCode = code
            resp.generationId = -1
            return .respond(resp)
        case is SyncGroupRequest:
            var resp = SyncGroupResponse()
            resp.errorCode = code
            return .respond(resp)
        case is HeartbeatRequest:
            var resp = HeartbeatResponse()
            resp.errorCode = code
            return .respond(resp)
        case is LeaveGroupRequest:
            var resp = LeaveGroupResponse()
            resp.errorCode = code
            return .respond(resp)
        case is ConsumerGroupHeartbeatRequest:
            var resp = ConsumerGroupHeartbeatResponse()
            resp.errorCode = code
            return .respond(resp)
        case let r as ConsumerGroupDescribeRequest:
            var resp = ConsumerGroupDescribeResponse()
            resp.groups = r.groupIds.map {
                var g = ConsumerGroupDescribeResponse.DescribedGroup()
                g.groupId = $0
                g.errorCode = code
                return g
            }
            return .respond(resp)
        case let r as OffsetCommitRequest:
            var resp = OffsetCommitResponse()
            resp.topics = r.topics.map { t in
                var tr = OffsetCommitResponse.OffsetCommitResponseTopic()
                tr.name = t.name
                tr.partitions = t.partitions.map {
                    var p = OffsetCommitResponse.OffsetCommitResponsePartition()
                    p.partitionIndex = $0.partitionIndex
                    p.errorCode = code
                    return p
                }
                return tr
            }
            return .respond(resp)
        case let r as TxnOffsetCommitRequest:
            var resp = TxnOffsetCommitResponse()
            resp.topics = r.topics.map { t in
                var tr = TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic()
                tr.name = t.name
                tr.partitions = t.partitions.map {
                    var p = TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                    p.partitionIndex = $0.partitionIndex
                    p.errorCode = code
                    return p
                }
                return tr
            }
            return .respond(resp)
        case let r as OffsetFetchRequest:
            // v8+: the error on each group; v2-v7: at the top; v0-v1: on every partition asked for.
            var resp = OffsetFetchResponse()
            if ctx.version >= 8 {
                resp.groups = r.groups.map {
                    var g = OffsetFetchResponse.OffsetFetchResponseGroup()
                    g.groupId = $0.groupId
                    g.errorCode = code
                    return g
                }
            } else if ctx.version >= 2 {
                resp.errorCode = code
            } else {
                resp.topics = (r.topics ?? []).map { t in
                    var tr = OffsetFetchResponse.OffsetFetchResponseTopic()
                    tr.name = t.name
                    tr.partitions = t.partitionIndexes.map {
                        var p = OffsetFetchResponse.OffsetFetchResponsePartition()
                        p.partitionIndex = $0
                        p.committedOffset = -1
                        p.metadata = ""
                        p.errorCode = code
                        return p
                    }
                    return tr
                }
            }
            return .respond(resp)
        case is InitProducerIdRequest:
            var resp = InitProducerIdResponse()
            resp.errorCode = code
            resp.producerId = -1
            resp.producerEpoch = -1
            return .respond(resp)
        case is EndTxnRequest:
            var resp = EndTxnResponse()
            resp.errorCode = code
            return .respond(resp)
        case let r as AddPartitionsToTxnRequest:
            // v0-v3 (clients): the error on every partition; v4+ (brokers, batched): at the
            // top and on every partition of every transaction.
            func results(_ topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic]) -> [AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult] {
                topics.map { t in
                    var tr = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult()
                    tr.name = t.name
                    tr.resultsByPartition = t.partitions.map {
                        var p = AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult()
                        p.partitionIndex = $0
                        p.partitionErrorCode = code
                        return p
                    }
                    return tr
                }
            }
            var resp = AddPartitionsToTxnResponse()
            if ctx.version >= 4 {
                resp.errorCode = code
                resp.resultsByTransaction = r.transactions.map {
                    var res = AddPartitionsToTxnResponse.AddPartitionsToTxnResult()
                    res.transactionalId = $0.transactionalId
                    res.topicResults = results($0.topics)
                    return res
                }
            } else {
                resp.resultsByTopicV3AndBelow = results(r.v3AndBelowTopics)
            }
            return .respond(resp)
        case is AddOffsetsToTxnRequest:
            var resp = AddOffsetsToTxnResponse()
            resp.errorCode = code
            return .respond(resp)
        default:
            return nil
        }
    }
}
