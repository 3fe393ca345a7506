import ArgumentParser
import KafkaIO
import KafkaProtocol
import KafkaStateMachines

struct ApiVersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-versions",
        abstract: "Print the API versions a broker supports, and the release they suggest.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Ask this broker (node id) instead of any.")
    var node: Int32?

    func run() async throws {
        let target: RequestTarget = node.map { .broker($0) } ?? .anyBroker
        let response = try await connection.withClient { client in
            // Brokers validate these (KIP-511) on v3+: send the client's own, not empty strings.
            var request = ApiVersionsRequest()
            request.clientSoftwareName = client.configuration.softwareName
            request.clientSoftwareVersion = client.configuration.softwareVersion
            return try await client.request(request, to: target)
        }
        if response.errorCode != 0 {
            throw KgoFailure("broker answered \(KafkaErrorCode(response.errorCode).name)")
        }
        print("API KEY                        MIN  MAX")
        for k in response.apiKeys.sorted(by: { $0.apiKey < $1.apiKey }) {
            print(pad("\(ApiKey(k.apiKey).name) (\(k.apiKey))", 31) + pad("\(k.minVersion)", 5) + "\(k.maxVersion)")
        }
        if let release = KafkaRelease.guess(from: BrokerVersions(response.apiKeys.map { (key: ApiKey($0.apiKey), range: $0.minVersion...max($0.minVersion, $0.maxVersion)) })) {
            print("looks like Kafka \(release.name)")
        }
    }
}
