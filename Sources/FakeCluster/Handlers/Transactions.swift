/// InitProducerId (idempotent, transactional, KIP-360 bump), AddPartitionsToTxn (single and
/// batched), AddOffsetsToTxn, EndTxn (markers written after the WriteTxnMarkers delay, see
/// ClusterState.scheduleMarkers) and TxnOffsetCommit.
extension FakeCluster {
    mutating func handleInitProducerId(_ r: InitProducerIdRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = InitProducerIdResponse()
        resp.producerId = -1
        resp.producerEpoch = -1
        if let tid = r.transactionalId, let e = coordinatorError(tid, .transaction, ctx) {
            resp.errorCode = e.code
            return .respond(resp)
        }
        let expected = ctx.version >= 3 && r.producerId >= 0
            ? TransactionCoordinator.ProducerIdAndEpoch(producerId: r.producerId, producerEpoch: r.producerEpoch) : nil
        switch state.transactions.initProducerId(transactionalId: r.transactionalId, timeoutMs: r.transactionTimeoutMs,
                                                 expected: expected, now: ctx.now) {
        case .success(let p):
            resp.producerId = p.producerId
            resp.producerEpoch = p.producerEpoch
        case .abortingOngoing(let c):
            // The markers go out after the WriteTxnMarkers delay; the client retries and gets the bumped epoch.
            state.scheduleMarkers(c, now: ctx.now)
            resp.errorCode = KafkaErrorCode.concurrentTransactions.code
        case .failure(let e):
            resp.errorCode = e.code
        }
        return .respond(resp)
    }

    mutating func handleAddPartitionsToTxn(_ r: AddPartitionsToTxnRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AddPartitionsToTxnResponse()
        if ctx.version >= 4 {
            for t in r.transactions {
                var res = AddPartitionsToTxnResponse.AddPartitionsToTxnResult()
                res.transactionalId = t.transactionalId
                res.topicResults = addPartitions(t.transactionalId, t.producerId, t.producerEpoch, t.topics,
                                                 verifyOnly: t.verifyOnly, ctx)
                resp.resultsByTransaction.append(res)
            }
        } else {
            resp.resultsByTopicV3AndBelow = addPartitions(r.v3AndBelowTransactionalId, r.v3AndBelowProducerId,
                                                          r.v3AndBelowProducerEpoch, r.v3AndBelowTopics, verifyOnly: false, ctx)
        }
        return .respond(resp)
    }

    private mutating func addPartitions(_ tid: String, _ pid: Int64, _ epoch: Int16,
                                       _ topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic], verifyOnly: Bool,
                                       _ ctx: RequestContext) -> [AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult] {
        typealias TP = TopicPartition
        let tps = topics.flatMap { t in t.partitions.map { TP(topic: t.name, partition: $0) } }
        var errors: [TP: KafkaErrorCode] = [:]
        if let e = coordinatorError(tid, .transaction, ctx) {
            for tp in tps { errors[tp] = e }
        } else if tps.contains(where: { state.metadata.partition($0) == nil }) {
            // One unknown partition fails the request; the others were not attempted.
            for tp in tps { errors[tp] = state.metadata.partition(tp) == nil ? .unknownTopicOrPartition : .operationNotAttempted }
        } else if verifyOnly {
            for tp in tps {
                errors[tp] = state.transactions.isPartitionInTransaction(producerId: pid, producerEpoch: epoch, tp)
                    ? KafkaErrorCode.noError : .invalidTxnState
            }
        } else {
            let e = state.transactions.addPartitions(transactionalId: tid, producerId: pid, producerEpoch: epoch, tps, now: ctx.now)
            for tp in tps { errors[tp] = e }
        }
        return topics.map { t in
            var tr = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult()
            tr.name = t.name
            tr.resultsByPartition = t.partitions.map {
                var pr = AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult()
                pr.partitionIndex = $0
                pr.partitionErrorCode = errors[TP(topic: t.name, partition: $0)]!.code
                return pr
            }
            return tr
        }
    }

    mutating func handleAddOffsetsToTxn(_ r: AddOffsetsToTxnRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AddOffsetsToTxnResponse()
        if let e = coordinatorError(r.transactionalId, .transaction, ctx) {
            resp.errorCode = e.code
        } else {
            resp.errorCode = state.transactions.addOffsets(transactionalId: r.transactionalId, producerId: r.producerId,
                                                           producerEpoch: r.producerEpoch, groupId: r.groupId, now: ctx.now).code
        }
        return .respond(resp)
    }

    mutating func handleEndTxn(_ r: EndTxnRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = EndTxnResponse()
        resp.producerId = -1
        resp.producerEpoch = -1
        if let e = coordinatorError(r.transactionalId, .transaction, ctx) {
            resp.errorCode = e.code
            return .respond(resp)
        }
        if ctx.version >= 5 && transactionVersion >= 2 {
            // KIP-890 part 2: the epoch is bumped by every EndTxn; the answer carries the new pair.
            switch state.transactions.endTransactionV2(transactionalId: r.transactionalId, producerId: r.producerId,
                                                       producerEpoch: r.producerEpoch, commit: r.committed, now: ctx.now) {
            case .ending(let c, let p):
                state.scheduleMarkers(c, now: ctx.now)
                resp.producerId = p.producerId
                resp.producerEpoch = p.producerEpoch
            case .done(let p):
                resp.producerId = p.producerId
                resp.producerEpoch = p.producerEpoch
            case .failure(let e):
                resp.errorCode = e.code
            }
            return .respond(resp)
        }
        switch state.transactions.endTransaction(transactionalId: r.transactionalId, producerId: r.producerId,
                                                 producerEpoch: r.producerEpoch, commit: r.committed, now: ctx.now) {
        case .ending(let c): state.scheduleMarkers(c, now: ctx.now)
        case .alreadyComplete: break
        case .failure(let e): resp.errorCode = e.code
        }
        return .respond(resp)
    }

    mutating func handleTxnOffsetCommit(_ r: TxnOffsetCommitRequest, _ ctx: RequestContext) -> HandlerResult {
        let all = Self.offsetsToCommit(r.topics, carriesLeaderEpoch: ctx.version >= 2)
        // As OffsetCommit: topics the caller may not READ are refused per partition.
        let readable = all.indices.filter { allowsTopic(ctx.connection, .read, all[$0].topicPartition.topic) }
        let offsets = readable.map { all[$0] }
        var errors: [KafkaErrorCode]
        if offsets.isEmpty, !all.isEmpty {
            errors = []
        } else if let e = coordinatorError(r.groupId, .group, ctx) {
            errors = offsets.map { _ in e }
        } else if ctx.version >= 5, transactionVersion >= 2,
                  case let e = state.transactions.addOffsets(transactionalId: r.transactionalId, producerId: r.producerId,
                                                             producerEpoch: r.producerEpoch, groupId: r.groupId, now: ctx.now),
                  e != .noError {
            // KIP-890 part 2: v5 adds the group to the transaction (no AddOffsetsToTxn).
            errors = offsets.map { _ in e }
        } else if case let e = state.transactions.check(transactionalId: r.transactionalId, producerId: r.producerId,
                                                         producerEpoch: r.producerEpoch), e != .noError {
            errors = offsets.map { _ in e }
        } else {
            errors = state.groups.commitTransactionalOffsets(
                groupId: r.groupId, producerId: r.producerId, generationId: ctx.version >= 3 ? r.generationId : -1,
                memberId: ctx.version >= 3 ? r.memberId : "", groupInstanceId: ctx.version >= 3 ? r.groupInstanceId : nil,
                offsets, now: ctx.now)
        }
        var resp = TxnOffsetCommitResponse()
        resp.topics = Self.commitErrors(r.topics, Self.refusedUnlessReadable(count: all.count, readable, errors)).map { t in
            var tr = TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic()
            tr.name = t.name
            tr.partitions = t.partitions.map {
                var pr = TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                pr.partitionIndex = $0.index
                pr.errorCode = $0.error
                return pr
            }
            return tr
        }
        return .respond(resp)
    }
}
