import KafkaProtocol
import KafkaStateMachines
import NIOCore
import NIOPosix

/// Makes the TCP connection to a broker: the hook for proxies, custom resolvers and tests.
/// It must return a connected channel on `eventLoop` (the loop that runs the client's
/// engine, so channel events need no hop) with no handlers that read; the client adds TLS
/// and its own handlers after.
public struct KafkaDialer: Sendable {
    /// Connects to `host:port` on `eventLoop` within `connectTimeout`.
    public typealias Dial = @Sendable (_ host: String, _ port: Int, _ eventLoop: any EventLoop,
                                       _ connectTimeout: TimeAmount) -> EventLoopFuture<any Channel>
    /// The function the client calls for every new connection.
    public let dial: Dial

    /// A dialer made of `dial`.
    public init(_ dial: @escaping Dial) { self.dial = dial }

    /// Plain TCP through NIO's resolver (happy eyeballs), no Nagle delay.
    public static let tcp = KafkaDialer { host, port, eventLoop, timeout in
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port)
    }
}
