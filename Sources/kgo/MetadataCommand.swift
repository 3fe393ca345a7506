import ArgumentParser
import KafkaIO
import KafkaProtocol

struct MetadataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata",
        abstract: "Print the cluster's brokers and its topics' partitions.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Topics to describe (all when none).")
    var topics: [String] = []
    @Option(name: .short, help: "A topic to describe, as kcat -L -t (repeatable; with the arguments).")
    var topic: [String] = []
    @Flag(name: .customShort("J"), help: "Print JSON (kcat -L -J's fields: controllerid, brokers, topics with partitions, leader, replicas, isrs).")
    var json = false

    func run() async throws {
        let topics = self.topics + topic
        var request = MetadataRequest()
        request.topics = topics.isEmpty ? nil : topics.map {
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = $0
            return t
        }
        request.allowAutoTopicCreation = false
        let response = try await connection.withClient { try await $0.request(request) }
        if json {
            print(MetadataJSON.render(response))
            return
        }
        print("cluster \(response.clusterId ?? "-"), controller \(response.controllerId)")
        print("BROKER  ADDRESS                RACK")
        for b in response.brokers.sorted(by: { $0.nodeId < $1.nodeId }) {
            print(pad("\(b.nodeId)", 8) + pad("\(b.host):\(b.port)", 23) + (b.rack ?? "-"))
        }
        for t in response.topics.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            let error = t.errorCode == 0 ? "" : " (\(KafkaErrorCode(t.errorCode).name))"
            print("")
            let id = t.topicId == .zero ? "" : " (id \(t.topicId))"
            print("topic \(t.name ?? "?")\(id)\(error), \(t.partitions.count) partitions\(t.isInternal ? ", internal" : "")")
            if t.partitions.isEmpty { continue }
            print("  PARTITION  LEADER  EPOCH  REPLICAS  ISR")
            for p in t.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
                let perr = p.errorCode == 0 ? "" : "  \(KafkaErrorCode(p.errorCode).name)"
                print("  " + pad("\(p.partitionIndex)", 11) + pad("\(p.leaderId)", 8) + pad("\(p.leaderEpoch)", 7)
                      + pad(p.replicaNodes.map(String.init).joined(separator: ","), 10)
                      + p.isrNodes.map(String.init).joined(separator: ",") + perr)
            }
        }
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
