import KafkaProtocol

/// `kgo metadata -J`: the response as one JSON object, in kcat -L -J's shape (its field
/// names) plus what kcat leaves out (cluster id, racks, leader epochs). Brokers, topics and
/// partitions sorted, so the output is stable. An error is the Kafka error name, present
/// only when there is one.
enum MetadataJSON {
    static func render(_ r: MetadataResponse) -> String {
        var s = "{\"cluster_id\":" + (r.clusterId.map(string) ?? "null") + ",\"controllerid\":\(r.controllerId),\"brokers\":["
        s += r.brokers.sorted { $0.nodeId < $1.nodeId }.map { b in
            "{\"id\":\(b.nodeId),\"name\":" + string("\(b.host):\(b.port)") + ",\"rack\":" + (b.rack.map(string) ?? "null") + "}"
        }.joined(separator: ",")
        s += "],\"topics\":["
        s += r.topics.sorted { ($0.name ?? "") < ($1.name ?? "") }.map { t in
            var o = "{\"topic\":" + string(t.name ?? "") + error(t.errorCode)
            if t.isInternal { o += ",\"internal\":true" }
            o += ",\"partitions\":["
            o += t.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map { p in
                "{\"partition\":\(p.partitionIndex)" + error(p.errorCode) + ",\"leader\":\(p.leaderId),\"leader_epoch\":\(p.leaderEpoch)"
                    + ",\"replicas\":[" + p.replicaNodes.map { "{\"id\":\($0)}" }.joined(separator: ",") + "]"
                    + ",\"isrs\":[" + p.isrNodes.map { "{\"id\":\($0)}" }.joined(separator: ",") + "]}"
            }.joined(separator: ",")
            return o + "]}"
        }.joined(separator: ",")
        return s + "]}"
    }

    private static func error(_ code: Int16) -> String {
        code == 0 ? "" : ",\"error\":" + string(KafkaErrorCode(code).name)
    }

    private static func string(_ s: String) -> String { RecordFormat.quote(Array(s.utf8)) }
}
