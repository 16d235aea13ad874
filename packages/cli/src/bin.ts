#!/usr/bin/env node
/**
 * The `reword` executable: the command tree on the Node services of
 * `RewordCommand.layerNode` (on `effect` alone), run by `RewordCommand.runMain`.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as RewordCommand from "./RewordCommand.ts"

RewordCommand.run().pipe(Effect.provide(RewordCommand.layerNode), RewordCommand.runMain)
