import KafkaIO
import KafkaMetrics
import Metrics

/// The README's hooks and metrics example, compiled with the tests so it cannot rot (it is
/// not run: it would bootstrap the process-wide metrics system).
enum ReadmeHooksExample {
    /// A hook of one's own: only the events it names; the rest default to nothing.
    struct SlowRequestLog: KafkaHook {
        func responseRead(_ event: KafkaResponseRead) {
            if event.timeOnWire > .seconds(1) {
                print("slow \(event.apiKey) v\(event.version) from broker \(event.broker): \(event.timeOnWire)")
            }
        }
    }

    static func main(factory: any MetricsFactory) throws -> KafkaClient {
        MetricsSystem.bootstrap(factory)            // e.g. swift-prometheus' PrometheusMetricsFactory()
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])
        configuration.hooks = [KafkaMetricsHook(), SlowRequestLog()]   // each sees every event, in order
        return try KafkaClient(configuration: configuration)
    }
}
