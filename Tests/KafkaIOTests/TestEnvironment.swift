import KafkaIO
import Logging
import Testing

/// Brokers the test command starts (Tools/test.sh). Tests that need one fail when it is
/// missing: a skipped broker test would pass without testing anything.
enum TestEnvironment {
    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfoLite.environment(name), !value.isEmpty else {
            Issue.record("\(name) is not set: run Tools/test.sh, which starts the brokers")
            throw MissingEnvironment(name: name)
        }
        return value
    }

    /// Tansu, plaintext.
    static func broker() throws -> BrokerAddress { try BrokerAddress(parsing: variable("KGO_TEST_BROKER")) }
    /// Tansu behind the stunnel TLS proxy, and the CA that signed the proxy's certificate.
    static func tlsBroker() throws -> (BrokerAddress, caFile: String) {
        (try BrokerAddress(parsing: variable("KGO_TEST_TLS_BROKER")), try variable("KGO_TEST_TLS_CA"))
    }

    static var logger: Logger {
        var l = Logger(label: "kgo-test") { StreamLogHandler.standardError(label: $0) }
        l.logLevel = ProcessInfoLite.environment("KGO_TEST_LOG") == nil ? .warning : .debug
        return l
    }

    /// Short budgets so a failing path shows within seconds.
    static func configuration(_ seeds: [BrokerAddress]) -> KafkaClientConfiguration {
        var c = KafkaClientConfiguration(seedBrokers: seeds)
        c.connectTimeout = .seconds(3)
        c.retryTimeout = .seconds(5)
        c.backoff = BackoffPolicy(initial: .milliseconds(50), max: .milliseconds(200))
        c.closeTimeout = .seconds(2)
        c.randomSeed = 42
        return c
    }

    struct MissingEnvironment: Error { var name: String }
}

/// getenv without Foundation.
enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
