#!/usr/bin/env node
/**
 * The `reword` executable.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import * as RewordCommand from "./RewordCommand.ts"

RewordCommand.run().pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
