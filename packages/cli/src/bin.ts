#!/usr/bin/env node
/**
 * The `reword` executable.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Runtime } from "effect"
import * as RewordCommand from "./RewordCommand.ts"

RewordCommand.run().pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    // The exit code is set, and the process ends once its output is flushed (process.exit could cut
    // stdout short when it is a pipe). An interruption (Ctrl-C, SIGTERM) still exits at once.
    teardown: (exit, onExit) =>
      Runtime.defaultTeardown(exit, (code) => {
        if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) onExit(code)
        else process.exitCode = code
      })
  })
)
