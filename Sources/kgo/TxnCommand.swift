import ArgumentParser
import Foundation
import KafkaIO

/// `kgo txn list|describe|producers|abort` over KafkaAdmin's transaction calls
/// (kafka-transactions.sh's verbs).
struct TxnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txn", abstract: "List, describe and abort transactions; describe partitions' producers.",
        subcommands: [List.self, Describe.self, Producers.self, Abort.self])

    static func optional(_ v: (some Any)?) -> Any { v.map { $0 as Any } ?? NSNull() }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the transactions every broker coordinates.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "Only transactions in this state (Ongoing, PrepareCommit, ...); repeatable.") var state: [String] = []
        @Option(name: .customLong("producer-id"), help: "Only this producer id; repeatable.") var producerId: [Int64] = []
        @Option(name: .customLong("longer-than-ms"), help: "Only transactions open at least this long (Kafka 3.8+).") var longerThanMs: Int64?

        func run() async throws {
            let listed = try await connection.withClient {
                try await KafkaAdmin(client: $0).listTransactions(states: state, producerIds: producerId,
                                                                  runningLongerThan: longerThanMs.map { .milliseconds($0) })
            }
            if output.json {
                try output.printJSON(["transactions": listed.transactions.map {
                    ["transactionalId": $0.transactionalId, "producerId": $0.producerId, "state": $0.state] as [String: Any]
                }, "unknownStateFilters": listed.unknownStateFilters, "brokerError": TxnCommand.optional(listed.brokerError?.name)] as [String: Any])
            } else {
                for t in listed.transactions { print("\(t.transactionalId) producer \(t.producerId) \(t.state)") }
            }
            if !listed.unknownStateFilters.isEmpty { printError("unknown state filters: \(listed.unknownStateFilters.joined(separator: ", "))") }
            if let e = listed.brokerError {
                printError("a broker answered \(e.name); its transactions are missing")
                throw ExitCode(1)
            }
            if !listed.unknownStateFilters.isEmpty { throw ExitCode(1) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Describe transactional ids: state, producer, open partitions.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "Transactional ids.") var ids: [String]

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).describeTransactions(ids) }
            try output.report(results, text: { n, t in
                "\(n) \(t.state) producer \(t.producerId) epoch \(t.producerEpoch) timeout \(t.timeoutMs)ms"
                    + (t.startTimeMs.map { " started \($0)" } ?? "") + (t.partitions.isEmpty ? "" : " partitions " + t.partitions.map(\.description).joined(separator: ","))
            }, object: { t in
                ["state": t.state, "producerId": t.producerId, "producerEpoch": Int(t.producerEpoch), "timeoutMs": Int(t.timeoutMs),
                 "startTimeMs": TxnCommand.optional(t.startTimeMs), "partitions": t.partitions.map(\.description)]
            })
        }
    }

    struct Producers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "producers", abstract: "Describe the producers each partition's leader holds state for.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "Only this partition.") var partition: Int32?
        @Argument(help: "Topics.") var topics: [String]

        func run() async throws {
            let results = try await connection.withClient { client -> [AdminResult<[ProducerStateDescription]>] in
                let admin = KafkaAdmin(client: client)
                var partitions: [TopicPartition] = []
                var failed: [AdminResult<[ProducerStateDescription]>] = []
                for d in try await admin.describeTopics(topics) {
                    switch d.result {
                    case .success(let t):
                        partitions += t.partitions.map { TopicPartition(t.name, $0.partition) }.filter { partition == nil || $0.partition == partition }
                    case .failure(let e):
                        failed.append(AdminResult(d.name, .failure(e)))
                    }
                }
                return failed + (partitions.isEmpty ? [] : try await admin.describeProducers(partitions))
            }
            try output.report(results, text: { n, ps in
                ps.isEmpty ? "\(n) no producers" : ps.map { p in
                    "\(n) producer \(p.producerId) epoch \(p.producerEpoch) last-sequence \(p.lastSequence) coordinator-epoch \(p.coordinatorEpoch.map(String.init) ?? "-")"
                        + (p.currentTransactionStartOffset.map { " open-transaction-start \($0)" } ?? "")
                }.joined(separator: "\n")
            }, object: { ps in
                ["producers": ps.map { p in
                    ["producerId": p.producerId, "producerEpoch": Int(p.producerEpoch), "lastSequence": Int(p.lastSequence),
                     "lastTimestamp": p.lastTimestamp, "coordinatorEpoch": TxnCommand.optional(p.coordinatorEpoch),
                     "currentTransactionStartOffset": TxnCommand.optional(p.currentTransactionStartOffset)] as [String: Any]
                }]
            })
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "abort", 
            abstract: "Abort a hanging transaction at one partition: by its start offset, or by producer id, epoch and coordinator epoch.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "The topic.") var topic: String
        @Option(help: "The partition.") var partition: Int32
        @Option(name: .customLong("start-offset"), help: "The open transaction's first offset (its producer is looked up).") var startOffset: Int64?
        @Option(name: .customLong("producer-id")) var producerId: Int64?
        @Option(name: .customLong("producer-epoch")) var producerEpoch: Int16?
        @Option(name: .customLong("coordinator-epoch")) var coordinatorEpoch: Int32?

        func validate() throws {
            let byProducer = [producerId != nil, producerEpoch != nil, coordinatorEpoch != nil]
            if startOffset != nil, byProducer.contains(true) {
                throw ValidationError("give --start-offset, or --producer-id, --producer-epoch and --coordinator-epoch, not both")
            }
            if startOffset == nil, byProducer.contains(false) {
                throw ValidationError("give --start-offset, or all of --producer-id, --producer-epoch and --coordinator-epoch")
            }
        }

        func run() async throws {
            let tp = TopicPartition(topic, partition)
            let results = try await connection.withClient { client -> [AdminResult<AdminDone>] in
                let admin = KafkaAdmin(client: client)
                let spec: AbortTransactionSpec
                if let startOffset {
                    do throws(KafkaAdminError) { spec = try await admin.abortSpec(tp, startOffset: startOffset) } catch {
                        return [AdminResult(tp.description, .failure(error))]
                    }
                } else {
                    spec = AbortTransactionSpec(tp, producerId: producerId!, producerEpoch: producerEpoch!, coordinatorEpoch: coordinatorEpoch!)
                }
                return try await admin.abortTransactions([spec])
            }
            try output.report(results, text: { n, _ in "aborted \(n)" }, object: { (_: AdminDone) in [:] })
        }
    }
}
