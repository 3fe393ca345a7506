/// Idempotence left at its default (`ProducerConfig.idempotenceFallback`) follows the
/// cluster for the producer's whole life, instead of being decided once at the start:
///
/// - off while the cluster cannot do it: InitProducerId unsupported (before Kafka 0.11,
///   `idempotenceUnsupported`), or an idempotent batch's leader takes only Produce v0-v2
///   (a broker not yet upgraded, or downgraded). Records then go at-least-once.
/// - on again, with a new producer id, once every broker leading one of the producer's
///   partitions has told (in the ApiVersions of a connection opened since it restarted)
///   that it takes Produce v3+ and InitProducerId: a rolling upgrade done, the producer
///   need not be restarted to be exactly-once per partition again.
///
/// A broker's table is what its latest connection reported, and the engine keeps using a
/// connection it has (metadata goes to a connected broker), so a leader the producer is not
/// writing to may keep the table of its old release for ever. So while idempotence is off,
/// every `idempotenceRecheck` the producer sends a Metadata request for its topics to each
/// leader whose table is missing or old: a broker restarted since has no connection left,
/// so the request opens one and its ApiVersions tells the new release. One small request
/// per old leader every 10 s, only while idempotence is off and records are buffered.
///
/// Why not stay without idempotence for life: a long-running service started against an
/// old cluster would keep writing duplicates on retries for weeks after the upgrade, with
/// nothing but one warning logged at its start. Why wait for every leader rather than any
/// broker: one producer id numbers every partition, and a batch sealed with sequences
/// cannot go to a leader that only takes legacy message sets.
///
/// The switch on is made between requests: nothing more is sent once the leaders allow it,
/// the requests sent without idempotence are answered first (a retry of one of those, sent
/// after idempotent batches of its partition, would reorder the partition), then the
/// producer id is asked of one of those leaders, then sending resumes with sequences. A
/// batch first sent without idempotence and resent after the switch may be in the log
/// twice (its first attempt carried no sequence to dedup against): exactly-once holds for
/// batches first sent after the switch. If the producer id cannot be had (the broker went
/// away, an error), the producer goes on without idempotence and tries again after a
/// backoff, telling nothing: to its user nothing changed.
extension ProducerStateMachine {
    /// Idempotence is off only because the cluster could not do it.
    var idempotenceSuspended: Bool { !idempotent && config.idempotent && txn == nil }

    /// A defaulted idempotence may be turned off when the cluster cannot do it (never a
    /// transactional producer's, nor one set explicitly).
    var idempotenceMayFallBack: Bool { config.idempotent && config.idempotenceFallback && txn == nil }

    /// How often the leaders whose tables say no idempotence are asked again (see above).
    static let idempotenceRecheck: Interval = .seconds(10)
    /// How often, at most, the leaders' tables are looked at while idempotence is off: the
    /// pump runs on every input, and the look walks every partition (a cost on the hot
    /// path of a producer left on an old cluster); the switch comes at most this much later.
    static let idempotenceLook: Interval = .milliseconds(50)

    /// The leaders of the producer's partitions, ascending, split into those whose latest
    /// table takes idempotent batches (Produce v3+ and InitProducerId) and the others
    /// (table missing, or an older release's).
    func leadersByIdempotence(_ versions: [BrokerID: BrokerVersions]) -> (able: [Int32], unable: [Int32]) {
        var leaders = Set<Int32>()
        for name in topicNames {
            for q in topics[name]!.partitions where q.leader >= 0 { leaders.insert(q.leader) }
        }
        var able: [Int32] = [], unable: [Int32] = []
        for b in leaders.sorted() {
            if let v = versions[.node(b)], let produce = v.range(for: .produce), produce.upperBound >= 3,
               v.range(for: .initProducerId) != nil {
                able.append(b)
            } else {
                unable.append(b)
            }
        }
        return (able, unable)
    }

    /// Starts taking idempotence up again when the leaders allow it (see the type's
    /// comment), or asks the leaders that do not seem to again, once per `idempotenceRecheck`.
    mutating func resumeIdempotenceIfPossible(versions: [BrokerID: BrokerVersions], now: Instant) {
        guard idempotenceSuspended, idempotenceMayFallBack, !closed, fatalError == nil, bufferedRecords > 0 else { return }
        if let at = resumeIdempotenceAt, now < at { return }
        if let last = idempotenceLookedAt, now < last + Self.idempotenceLook { return }
        idempotenceLookedAt = now
        let leaders = leadersByIdempotence(versions)
        guard leaders.unable.isEmpty, let target = leaders.able.first else {
            if !leaders.unable.isEmpty { probeLeaders(leaders.unable, now: now) }
            return
        }
        idempotent = true
        resumingIdempotence = target
        idState = .none
        idRetryAt = nil
        idFailures = 0
        // A new producer id: whatever the brokers held for an earlier one may be gone.
        producerId = -1
        producerEpoch = -1
        bumpPending = false
        dirty = true
    }

    /// A Metadata request for the producer's topics to each of `brokers`, at most once per
    /// `idempotenceRecheck`: to a broker restarted since its last connection it opens a new
    /// one, whose ApiVersions updates the broker's table. The answers are not the
    /// producer's to act on (their tickets match nothing; the engine folds the metadata in).
    mutating func probeLeaders(_ brokers: [Int32], now: Instant) {
        if let last = idempotenceProbedAt, now < last + Self.idempotenceRecheck { return }
        idempotenceProbedAt = now
        var r = MetadataRequest()
        r.topics = topicNames.map { name in
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = name
            return t
        }
        for b in brokers {
            let ticket = nextTicket
            nextTicket += 1
            outputs.append(.send(ComponentRequest(tag: ticket, r, to: .broker(b), maxRetries: 0)))
        }
    }

    /// The answer to the InitProducerId of a resume: idempotent from now on, or back to
    /// producing without it until the next try.
    mutating func resumeAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        resumingIdempotence = nil
        if case .success(let r as InitProducerIdResponse) = result, r.errorCode == 0 {
            producerId = r.producerId
            producerEpoch = r.producerEpoch
            idState = .ready
            resumeFailures = 0
            resumeIdempotenceAt = nil
            bumpPending = false
            resetSequences()
            outputs.append(.action(.producer(.idempotenceEnabled(producerId: r.producerId, epoch: r.producerEpoch))))
            return
        }
        idempotent = false
        idState = .none
        idempotenceProbedAt = now
        resumeIdempotenceAt = now + backoff.delay(attempt: resumeFailures, using: &rng)
        resumeFailures += 1
    }

    /// The cluster cannot take idempotent batches (InitProducerId unsupported, or an
    /// idempotent batch met a leader that takes only legacy message sets): without
    /// idempotence from now on (until `resumeIdempotenceIfPossible`), every sequence
    /// forgotten; the leaders are asked again for their versions one recheck from now.
    mutating func suspendIdempotence(reason: String, now: Instant) {
        idempotent = false
        idempotenceProbedAt = now
        resumingIdempotence = nil
        idState = .none
        idRetryAt = nil
        bumpPending = false
        for name in topicNames {
            for p in topics[name]!.partitions.indices {
                topics[name]!.partitions[p].nextSequence = 0
                for b in topics[name]!.partitions[p].batches.indices { topics[name]!.partitions[p].batches[b].sequence = -1 }
            }
        }
        dirty = true
        outputs.append(.action(.producer(.idempotenceDisabled(reason: reason))))
    }
}
