import KafkaProtocol
import KafkaStateMachines
import Logging

/// The engine's decisions as log lines (the list and levels: ARCHITECTURE.md, "Log lines of
/// engine decisions"). The engine builds them only when the logger lets warnings through
/// (init turns `reportDecisions` off otherwise); swift-log's autoclosures keep the message
/// and metadata of a line its level filters unbuilt.
extension EngineDriver {
    func logDecisions(_ decisions: [EngineDecision]) {
        for d in decisions {
            switch d {
            case .brokerAdded(let node, let address):
                logger.info("broker added", metadata: [KafkaLogMetadata.broker: "\(node) \(address.host):\(address.port)"])
            case .brokerRemoved(let node):
                logger.info("broker removed", metadata: [KafkaLogMetadata.broker: "\(node)"])
            case .partitionCountChanged(let topic, let from, let to):
                logger.info("partition count changed", metadata: ["topic": "\(topic)", "from": "\(from)", "to": "\(to)"])
            case .leaderMoved(let tp, let from, let to, let epoch):
                logger.info("leader moved", metadata: [KafkaLogMetadata.partition: "\(tp)", "from": "\(from)", "to": "\(to)",
                                                       "epoch": "\(epoch)"])
            case .retrying(let key, let attempt, let reason, let delay):
                logger.debug("retrying request", metadata: ["api": "\(key)", "attempt": "\(attempt)", "reason": "\(reason)",
                                                            "backoff": "\(delay.map { "\(Duration($0))" } ?? "until metadata")"])
            case .produceRetrying(let tp, let reason, let delay):
                logger.debug("retrying produce", metadata: [KafkaLogMetadata.partition: "\(tp)", "reason": "\(reason)",
                                                            "backoff": "\(Duration(delay))"])
            case .offsetReset(let tp, let offset, let policy):
                let to = switch policy {
                case .start: "start"
                case .end: "end"
                case .error: "none (stopped)"
                }
                logger.warning("fetch offset out of range", metadata: [KafkaLogMetadata.partition: "\(tp)", "offset": "\(offset)",
                                                                       "reset": "\(to)"])
            case .producerEpochBumped(let id, let epoch):
                logger.info("producer epoch bumped", metadata: ["producerId": "\(id)", "epoch": "\(epoch)"])
            case .producerIdReset(let previous, let code):
                logger.warning("producer id reset", metadata: ["producerId": "\(previous)", "reason": "\(code)"])
            }
        }
    }

    /// Data loss a fetch found (KIP-320 truncation): the records between the offsets are gone.
    func logDataLoss(_ batch: FetchBatch) {
        for loss in batch.dataLoss {
            logger.error("consumer detected data loss", metadata: [KafkaLogMetadata.partition: "\(loss.topicPartition)",
                                                                   "from": "\(loss.fromOffset)", "to": "\(loss.toOffset)"])
        }
    }
}
