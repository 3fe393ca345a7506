import Logging
import ServiceLifecycle

/// The client as a ServiceLifecycle `Service`: `run()` keeps it until graceful shutdown
/// (or cancellation), then flushes the producer (within `shutdownTimeout`) and closes.
///
/// ```swift
/// let client = try KafkaClient(configuration: configuration, logger: logger)
/// let services = ServiceGroup(services: [client, httpServer], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await services.run()
/// ```
extension KafkaClient: Service {
    /// Returns once the client is closed: after graceful shutdown or the task's
    /// cancellation, records produced before then are flushed (up to the configuration's
    /// `shutdownTimeout`; records still unanswered then fail with `.clientClosed`).
    public func run() async {
        // Throws only on cancellation, which ends the wait the same way.
        try? await gracefulShutdown()
        await shutDown()
    }

    /// Flushes within `shutdownTimeout`, then closes. Not the caller's task: a cancelled
    /// task (what ServiceGroup does past its own deadline) would cut the flush short.
    func shutDown() async {
        let client = self
        await Task {
            let inTime = await Deadline.run(within: client.configuration.shutdownTimeout) { await client.flush() }
            if !inTime { client.logger.warning("flushing took longer than the shutdown timeout; closing") }
            await client.close()
        }.value
    }
}
