/// Produce: each partition's batch goes to the leader's log (idempotent and transactional
/// checks there); acks=0 answers nothing, acks=all waits for the high watermark.
struct ProduceWait: Sendable {
    var response: ProduceResponse
    /// (topic index, partition index, offset the high watermark must reach).
    var waiting: [(Int, Int, TopicPartition, Int64)]
}

extension FakeCluster {
    mutating func handleProduce(_ r: ProduceRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ProduceResponse()
        var waiting: [(Int, Int, TopicPartition, Int64)] = []
        var hinted: Set<Int32> = []
        for t in r.topicData {
            var tr = ProduceResponse.TopicProduceResponse()
            tr.name = t.name
            let writable = allowsTopic(ctx.connection, .write, t.name)
            for p in t.partitionData {
                var pr = ProduceResponse.PartitionProduceResponse()
                pr.index = p.index
                let tp = TopicPartition(topic: t.name, partition: p.index)
                guard writable else {
                    pr.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                    pr.baseOffset = -1
                    tr.partitionResponses.append(pr)
                    continue
                }
                if let e = faults.take(.produce, tp) {
                    pr.errorCode = e
                    pr.baseOffset = -1
                    tr.partitionResponses.append(pr)
                    continue
                }
                guard var records = p.records else {
                    pr.errorCode = KafkaErrorCode.invalidRecord.code
                    tr.partitionResponses.append(pr)
                    continue
                }
                if let m = LegacyRecords.magic(records), m < 2 {
                    guard let converted = LegacyRecords.upConvert(records) else {
                        pr.errorCode = KafkaErrorCode.corruptMessage.code
                        tr.partitionResponses.append(pr)
                        continue
                    }
                    records = converted
                }
                if let refused = rejections.refused(tp, records: records) {
                    pr.errorCode = KafkaErrorCode.invalidRecord.code
                    pr.baseOffset = -1
                    if ctx.version >= 8 {
                        pr.errorMessage = refused.message
                        pr.recordErrors = refused.indices.map {
                            var e = ProduceResponse.BatchIndexAndErrorMessage()
                            e.batchIndex = $0
                            e.batchIndexErrorMessage = refused.message
                            return e
                        }
                    }
                    tr.partitionResponses.append(pr)
                    continue
                }
                // KIP-890 part 2: a transactional v12+ adds its partition to the transaction.
                let implicitAdd = ctx.version >= 12 && transactionVersion >= 2 ? r.transactionalId : nil
                let res = state.produce(broker: ctx.broker, tp, records: records, acks: r.acks, addingTo: implicitAdd, now: ctx.now)
                pr.errorCode = res.error.code
                pr.baseOffset = res.baseOffset
                pr.logAppendTimeMs = res.logAppendTime
                pr.logStartOffset = res.logStartOffset
                if let h = res.currentLeader, ctx.version >= 10 {
                    pr.currentLeader.leaderId = h.leaderId
                    pr.currentLeader.leaderEpoch = h.leaderEpoch
                    hinted.insert(h.leaderId)
                }
                if let hw = res.awaitHighWatermark, !state.isReplicated(tp, upTo: hw) {
                    waiting.append((resp.responses.count, tr.partitionResponses.count, tp, hw))
                }
                tr.partitionResponses.append(pr)
            }
            resp.responses.append(tr)
        }
        resp.nodeEndpoints = hinted.sorted().compactMap(nodeEndpoint)
        if r.acks == 0 { return .noResponse }
        if !waiting.isEmpty {
            return .park(.produce(ProduceWait(response: resp, waiting: waiting)),
                         deadline: ctx.now.adding(milliseconds: Int64(r.timeoutMs)))
        }
        return .respond(resp)
    }

    func nodeEndpoint(_ id: Int32) -> ProduceResponse.NodeEndpoint? {
        guard let b = state.metadata.broker(id) else { return nil }
        var e = ProduceResponse.NodeEndpoint()
        e.nodeId = id
        e.host = b.host
        e.port = b.port
        e.rack = b.rack
        return e
    }

    /// An acks=all produce is done once every partition is replicated; at its timeout the
    /// partitions still short answer REQUEST_TIMED_OUT.
    func finishProduce(_ w: ProduceWait, _ p: Parked, expired: Bool) -> (any KafkaResponse)? {
        let short = w.waiting.filter { !state.isReplicated($0.2, upTo: $0.3) }
        if !short.isEmpty && !expired { return nil }
        var resp = w.response
        for s in short { resp.responses[s.0].partitionResponses[s.1].errorCode = KafkaErrorCode.requestTimedOut.code }
        return resp
    }
}
