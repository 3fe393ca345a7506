import FakeCluster
import KafkaProtocol
import KafkaStateMachines

/// Transactional producers writing straight into the fake cluster (not through the engine
/// under test): each round one producer writes a batch to a partition inside its open
/// transaction, and transactions end with commit or abort as the seed decides, so several
/// producers' transactions interleave. It keeps the truth a read_committed consumer must
/// see: per partition, the committed values in offset order.
struct TxnWriter {
    struct Producer {
        var transactionalId: String
        var producerId: Int64 = -1
        var epoch: Int16 = -1
        var sequence: [Int32: Int32] = [:]
        /// Partitions added to the open transaction, and the values written in it.
        var open: [Int32: [(offset: Int64, value: [UInt8])]] = [:]
        var rounds = 0
    }

    let topic: String
    let partitions: Int32
    let every: UInt64
    var producers: [Producer]
    var rng: SeededGenerator
    var counter = 0
    /// Committed values by partition, with offsets.
    var committed: [Int32: [(offset: Int64, value: [UInt8])]] = [:]
    /// Values whose outcome is unknown (a step failed mid-transaction): the checker
    /// tolerates them either way.
    var uncertain: Set<[UInt8]> = []
    var aborted: Set<[UInt8]> = []
    let contexts = CompressionContexts()

    init(topic: String, partitions: Int32, every: UInt64, producers: Int, seed: UInt64) {
        self.topic = topic
        self.partitions = partitions
        self.every = every
        self.producers = (0 ..< producers).map { Producer(transactionalId: "txn-\(topic)-\($0)") }
        self.rng = SeededGenerator(seed: seed)
    }

    /// One round; returns the next wake time.
    mutating func step(cluster: inout FakeCluster, now: UInt64) -> UInt64 {
        let i = Int.random(in: 0 ..< producers.count, using: &rng)
        var p = producers[i]
        defer { producers[i] = p }
        guard let coordinator = cluster.coordinator(p.transactionalId, .transaction),
              var conn = DirectConnection(broker: coordinator, cluster: &cluster) else { return now + every }
        defer { conn.close(&cluster) }
        if p.producerId < 0 {
            var r = InitProducerIdRequest()
            r.transactionalId = p.transactionalId
            r.transactionTimeoutMs = 60_000
            guard let resp = conn.call(r, version: 1, cluster: &cluster, now: now), resp.errorCode == 0 else { return now + every }
            p.producerId = resp.producerId
            p.epoch = resp.producerEpoch
            p.sequence = [:]
        }
        p.rounds += 1
        // End the transaction after a few rounds: commit two times in three.
        if !p.open.isEmpty && (p.rounds % 4 == 0 || Int.random(in: 0 ..< 3, using: &rng) == 0) {
            let commit = Int.random(in: 0 ..< 3, using: &rng) != 0
            var e = EndTxnRequest()
            e.transactionalId = p.transactionalId
            e.producerId = p.producerId
            e.producerEpoch = p.epoch
            e.committed = commit
            let resp = conn.call(e, version: 1, cluster: &cluster, now: now)
            let written = p.open.keys.sorted().flatMap { part in p.open[part]!.map { (part, $0) } }
            if resp?.errorCode == 0 {
                for (part, w) in written {
                    if commit { committed[part, default: []].append(w) } else { aborted.insert(w.value) }
                }
            } else {
                for (_, w) in written { uncertain.insert(w.value) }
                p.producerId = -1  // start over with a fresh InitProducerId (fences the old epoch)
            }
            p.open = [:]
            return now + every
        }
        // Write one batch to a partition inside the transaction.
        let part = Int32.random(in: 0 ..< partitions, using: &rng)
        if p.open[part] == nil {
            var add = AddPartitionsToTxnRequest()
            add.v3AndBelowTransactionalId = p.transactionalId
            add.v3AndBelowProducerId = p.producerId
            add.v3AndBelowProducerEpoch = p.epoch
            var t = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic()
            t.name = topic
            t.partitions = [part]
            add.v3AndBelowTopics = [t]
            guard let resp = conn.call(add, version: 3, cluster: &cluster, now: now),
                  resp.resultsByTopicV3AndBelow.allSatisfy({ $0.resultsByPartition.allSatisfy { $0.partitionErrorCode == 0 } }) else {
                return now + every
            }
            p.open[part] = []
        }
        guard let leader = cluster.partitionInfo(.init(topic, part))?.leader, var lconn = DirectConnection(broker: leader, cluster: &cluster) else {
            return now + every
        }
        defer { lconn.close(&cluster) }
        counter += 1
        let value = Array("\(p.transactionalId)-\(counter)".utf8)
        let seq = p.sequence[part] ?? 0
        let options = RecordBatchOptions(isTransactional: true, producerId: p.producerId, producerEpoch: p.epoch, baseSequence: seq)
        guard let batch = try? RecordBatchEncoder.encode([EncodableRecord(value: value, timestamp: Int64(now / 1_000_000))], options: options,
                                                        contexts: contexts) else { return now + every }
        var pd = ProduceRequest.PartitionProduceData()
        pd.index = part
        pd.records = batch
        var td = ProduceRequest.TopicProduceData()
        td.name = topic
        td.partitionData = [pd]
        var r = ProduceRequest()
        r.transactionalId = p.transactionalId
        r.acks = 1
        r.timeoutMs = 5_000
        r.topicData = [td]
        let resp = lconn.call(r, version: 8, cluster: &cluster, now: now)
        if let pr = resp?.responses.first?.partitionResponses.first, pr.errorCode == 0 {
            p.sequence[part] = seq + 1
            p.open[part, default: []].append((pr.baseOffset, value))
        } else {
            // No answer (held or delayed) or an error: the batch may or may not be in the
            // log, and its sequence number is spent either way. Give the transaction up:
            // a fresh InitProducerId fences this epoch and aborts what it left open.
            uncertain.insert(value)
            for (_, ws) in p.open { for w in ws { uncertain.insert(w.value) } }
            p.open = [:]
            p.producerId = -1
        }
        return now + every
    }

    /// Ends every open transaction with an abort (the run is over; nothing stays open, so
    /// the last stable offset can reach the high watermark).
    mutating func finish(cluster: inout FakeCluster, now: UInt64) {
        for i in producers.indices where !producers[i].open.isEmpty {
            let p = producers[i]
            guard let coordinator = cluster.coordinator(p.transactionalId, .transaction),
                  var conn = DirectConnection(broker: coordinator, cluster: &cluster) else {
                for (_, ws) in p.open { for w in ws { uncertain.insert(w.value) } }
                continue
            }
            var e = EndTxnRequest()
            e.transactionalId = p.transactionalId
            e.producerId = p.producerId
            e.producerEpoch = p.epoch
            e.committed = false
            let ok = conn.call(e, version: 1, cluster: &cluster, now: now)?.errorCode == 0
            for (_, ws) in p.open { for w in ws { if ok { aborted.insert(w.value) } else { uncertain.insert(w.value) } } }
            producers[i].open = [:]
            conn.close(&cluster)
        }
    }
}
