/**
 * The processes tests start (the `reword` command, demo runs, killed workers) run Node on TypeScript sources;
 * each one compiles hundreds of modules (effect's among them) before its first line. Node's compile cache keeps
 * that work on disk between processes (it checks each source's hash, so a changed file is compiled again):
 * a `reword --help` takes about 0.6 s instead of 1.7 s here. A cache the developer set is kept.
 */
import { tmpdir } from "node:os"
import { join } from "node:path"

process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), "reword-test-compile-cache")
