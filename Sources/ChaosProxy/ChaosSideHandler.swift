import NIOCore

/// One side of a proxied connection (the accepted client, or the upstream it was joined
/// to): hands reads and closes to the `ChaosConnection`.
final class ChaosSideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let proxy: ChaosProxy
    let side: ChaosConnection.Side
    var connection: ChaosConnection?

    init(proxy: ChaosProxy, side: ChaosConnection.Side, connection: ChaosConnection? = nil) {
        self.proxy = proxy
        self.side = side
        self.connection = connection
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .client { connection = proxy.accepted(context.channel) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.received(from: side, unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.ended(side)
        context.fireChannelInactive()
    }

    /// A reset from the peer or a failed write: that side closes, and the other follows.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
