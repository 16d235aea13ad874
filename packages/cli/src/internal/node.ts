/**
 * The Node services the command needs, on `effect` alone: arguments and
 * standard streams (`Stdio`), reading a `--from` file (`FileSystem`: `stat`
 * and `stream` only), `Path`, and a `Terminal` and a `ChildProcessSpawner`
 * that the command never uses (no prompts, no child processes), plus
 * `runMain`, which runs the program as the process's main fiber and
 * interrupts it on SIGINT and SIGTERM. It replaces `@effect/platform-node`,
 * whose other services (HTTP, sockets, workers, Redis) reword never uses.
 */
import * as fs from "node:fs"
import type { Readable, Writable } from "node:stream"
import {
  ByteSize,
  Effect,
  FileSystem,
  Layer,
  Option,
  Path,
  PlatformError,
  Runtime,
  Sink,
  Stdio,
  Stream,
  Terminal
} from "effect"
import { ChildProcessSpawner } from "effect/process"

const systemError = (module: string, method: string, cause: unknown, path?: string): PlatformError.PlatformError => {
  const code = (cause as { readonly code?: unknown } | undefined)?.code
  return PlatformError.systemError({
    _tag: code === "ENOENT" ? "NotFound" : code === "EACCES" || code === "EPERM" ? "PermissionDenied" : "Unknown",
    module,
    method,
    ...(path === undefined ? {} : { pathOrDescriptor: path }),
    description: cause instanceof Error ? cause.message : String(cause),
    cause
  })
}

const fromReadable = (evaluate: () => Readable, onError: (cause: unknown) => PlatformError.PlatformError) =>
  Stream.suspend(() => Stream.fromAsyncIterable(evaluate() as AsyncIterable<Uint8Array>, onError))

const toWritable = (evaluate: () => Writable, method: string) =>
  // biome-ignore lint/suspicious/useIterableCallbackReturn: Sink.forEach runs an effect per chunk, not Array.forEach
  Sink.forEach((chunk: string | Uint8Array) =>
    Effect.callback<void, PlatformError.PlatformError>((resume) => {
      evaluate().write(chunk, (error) => resume(error ? Effect.fail(systemError("Stdio", method, error)) : Effect.void))
    })
  )

/** Arguments, stdin, stdout and stderr of the process. */
export const stdio: Stdio.Stdio = Stdio.make({
  args: Effect.sync(() => process.argv.slice(2)),
  stdinIsTerminal: Effect.sync(() => process.stdin.isTTY === true),
  stdoutIsTerminal: Effect.sync(() => process.stdout.isTTY === true),
  stderrIsTerminal: Effect.sync(() => process.stderr.isTTY === true),
  stdout: () => toWritable(() => process.stdout, "stdout"),
  stderr: () => toWritable(() => process.stderr, "stderr"),
  stdin: fromReadable(
    () => process.stdin,
    (cause) => systemError("Stdio", "stdin", cause)
  )
})

const infoOf = (stats: fs.Stats): FileSystem.File.Info => ({
  type: stats.isFile()
    ? "File"
    : stats.isDirectory()
      ? "Directory"
      : stats.isSymbolicLink()
        ? "SymbolicLink"
        : stats.isFIFO()
          ? "FIFO"
          : stats.isSocket()
            ? "Socket"
            : stats.isBlockDevice()
              ? "BlockDevice"
              : stats.isCharacterDevice()
                ? "CharacterDevice"
                : "Unknown",
  mtime: Option.fromNullishOr(stats.mtime),
  atime: Option.fromNullishOr(stats.atime),
  birthtime: Option.fromNullishOr(stats.birthtime),
  dev: BigInt(stats.dev),
  ino: Option.some(BigInt(stats.ino)),
  mode: stats.mode,
  nlink: Option.some(BigInt(stats.nlink)),
  uid: Option.some(stats.uid),
  gid: Option.some(stats.gid),
  rdev: Option.some(BigInt(stats.rdev)),
  size: ByteSize.bytes(stats.size),
  blksize: Option.some(ByteSize.bytes(stats.blksize)),
  blocks: Option.some(BigInt(stats.blocks))
})

/** Reading files: `stat` and `stream` (all the command needs); anything else is refused. */
export const fileSystem: FileSystem.FileSystem = FileSystem.makeNoop({
  stat: (path) =>
    Effect.callback<FileSystem.File.Info, PlatformError.PlatformError>((resume) => {
      fs.stat(path, (error, stats) =>
        resume(error ? Effect.fail(systemError("FileSystem", "stat", error, path)) : Effect.succeed(infoOf(stats)))
      )
    }),
  stream: (path) =>
    fromReadable(
      () => fs.createReadStream(path),
      (cause) => systemError("FileSystem", "stream", cause, path)
    )
})

const unused = (what: string) => Effect.die(new Error(`reword does not use ${what}`))

/** A terminal for output only: the command never prompts. */
export const terminal: Terminal.Terminal = Terminal.make({
  columns: Effect.sync(() => process.stdout.columns ?? 0),
  rows: Effect.sync(() => process.stdout.rows ?? 0),
  size: unused("terminal size events"),
  readInput: unused("terminal input"),
  readLine: unused("terminal input"),
  display: (text) =>
    Effect.callback<void, PlatformError.PlatformError>((resume) => {
      process.stdout.write(text, (error) =>
        resume(error ? Effect.fail(systemError("Terminal", "display", error)) : Effect.void)
      )
    })
})

/**
 * Every service `Command.Environment` asks for, on Node.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<
  FileSystem.FileSystem | Path.Path | Terminal.Terminal | ChildProcessSpawner.ChildProcessSpawner | Stdio.Stdio
> = Layer.mergeAll(
  Layer.succeed(FileSystem.FileSystem, fileSystem),
  Path.layer,
  Layer.succeed(Stdio.Stdio, stdio),
  Layer.succeed(Terminal.Terminal, terminal),
  Layer.succeed(
    ChildProcessSpawner.ChildProcessSpawner,
    ChildProcessSpawner.make(() => unused("child processes"))
  )
)

/**
 * Runs an effect as the process's main fiber: SIGINT and SIGTERM interrupt it
 * (its finalizers run), and the teardown decides the exit code.
 *
 * @since 0.1.0
 */
export const runMain = Runtime.makeRunMain(({ fiber, teardown }) => {
  let receivedSignal = false
  const onSignal = () => {
    receivedSignal = true
    fiber.interruptUnsafe(fiber.id)
  }
  fiber.addObserver((exit) => {
    process.removeListener("SIGINT", onSignal)
    process.removeListener("SIGTERM", onSignal)
    teardown(exit, (code) => {
      if (receivedSignal || code !== 0) process.exit(code)
    })
  })
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
})
