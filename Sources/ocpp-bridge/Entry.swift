import NIOCore
import NIOPosix

/// The program's start: makes NIO's event loops Swift Concurrency's global executor, then runs the command.
@main
enum Entry {
    static func main() async {
        // A CALL read from a socket is then parsed, answered and written back on the event loop's threads,
        // without waking a thread of the cooperative pool and back (docs/performance.md). It must come first,
        // before any task is enqueued.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await OCPPBridgeCommand.main(nil)
    }
}
