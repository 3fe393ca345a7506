import NIOCore
import NIOPosix
import NIOSSL

/// A TCP listener on loopback that answers the first bytes it reads with a fixed reply
/// (garbage, an HTTP error …) and then leaves the connection open: the peer the client
/// must not trust.
final class ScriptedPeer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    /// `tls` puts a TLS server (this certificate and key) in front of the reply.
    init(reply: [UInt8], host: String = "127.0.0.1", tls: NIOSSLContext? = nil) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls { try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ch.pipeline.syncOperations.addHandler(Replier(reply: reply))
                }
            }
            .bind(host: host, port: 0).get()
    }

    func stop() async { try? await channel.close() }

    /// A loopback port nobody listens on: bound by us, then released (a fixed low port may
    /// be taken by another process on a shared machine).
    static func closedPort() async throws -> Int {
        let peer = try await ScriptedPeer(reply: [])
        let port = peer.port
        await peer.stop()
        return port
    }

    private final class Replier: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: [UInt8]
        var replied = false
        init(reply: [UInt8]) { self.reply = reply }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !replied else { return }
            replied = true
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
        }
    }
}
