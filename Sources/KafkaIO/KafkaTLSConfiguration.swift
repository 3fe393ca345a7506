import KafkaProtocol
import KafkaStateMachines
import NIOSSL

/// TLS for every broker connection. Wraps NIOSSL's `TLSConfiguration` (full certificate and
/// hostname verification by default) with the pieces Kafka setups usually name as files.
public struct KafkaTLSConfiguration: Sendable {
    /// swift-nio-ssl's client configuration: trust roots, client certificate, protocols.
    public var configuration: TLSConfiguration
    /// The name sent as SNI and checked against the certificate; nil uses each broker's
    /// advertised host (an IP address is checked against the certificate's IP entries).
    public var serverName: String?

    /// System trust roots, full verification, no client certificate.
    public init() {
        self.configuration = TLSConfiguration.makeClientConfiguration()
        self.serverName = nil
    }

    /// Any swift-nio-ssl client configuration (keep its verification on).
    public init(configuration: TLSConfiguration, serverName: String? = nil) {
        self.configuration = configuration
        self.serverName = serverName
    }

    /// Trusts the PEM roots in `caFile` (system roots when nil) and presents the PEM client
    /// certificate chain and key when both are given.
    public static func files(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                             serverName: String? = nil) throws(KafkaConfigurationError) -> KafkaTLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        if let caFile { c.trustRoots = .file(caFile) }
        switch (certificateFile, keyFile) {
        case (nil, nil): break
        case (let cert?, let key?):
            do {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .tls("cannot load client certificate \(cert) / key \(key): \(error)")
            }
        default:
            throw .tls("a client certificate needs both the certificate and the key file")
        }
        return KafkaTLSConfiguration(configuration: c, serverName: serverName)
    }

    /// Builds the (expensive) context once per client; loading roots happens here, so a
    /// missing CA file fails at startup rather than on every connection.
    func makeContext() throws(KafkaConfigurationError) -> NIOSSLContext {
        if case .file(let path)? = configuration.trustRoots {
            do { _ = try NIOSSLCertificate.fromPEMFile(path) } catch { throw .tls("cannot load CA file \(path): \(error)") }
        }
        do { return try NIOSSLContext(configuration: configuration) } catch { throw .tls("\(error)") }
    }
}
