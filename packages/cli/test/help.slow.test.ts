/**
 * `--help` explains every option (the settings flags generated from the
 * providers' settings tables included), the environment and the exit codes;
 * `--version` is the package's; a bare or unknown command is bad input.
 */
import { readFileSync } from "node:fs"
import { Acquire } from "@reword/acquire"
import { Bitrix24 } from "@reword/bitrix24"
import { Telegram } from "@reword/telegram"
import { describe, expect, it } from "vitest"
import { reword } from "./support/cli.ts"

const flagOf = (env: string) => `--${env.toLowerCase().replaceAll("_", "-")}`

const settings = [...Bitrix24.provider.settings, ...Acquire.provider.settings, ...Telegram.provider.settings]

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

/** The flags that a help text lists (at the start of a line). */
const listedFlags = (help: string): Array<string> =>
  help
    .split("\n")
    .map((line) => /^\s+(--[a-z0-9-]+)/.exec(line)?.[1])
    .filter((flag): flag is string => flag !== undefined)

describe("reword --help", () => {
  it("lists the subcommands and the exit codes", async () => {
    const run = await reword(["--help"])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe("")
    for (const text of [
      "update",
      "sandbox",
      "EXIT CODES",
      "0  success",
      "2  bad input",
      "3  the provider refused",
      "4  reword update through the app's outbox"
    ]) {
      expect(run.stdout).toContain(text)
    }
    expect(run.stdout).not.toContain("--wizard")
  })

  it("reword update --help explains every option, every setting and the exit codes", async () => {
    const run = await reword(["update", "--help"])
    expect(run.code).toBe(0)
    const flags = [
      "--external-message-id",
      "--external-chat-id",
      "--external-author-id",
      "--provider-message-id",
      "--text",
      "--file",
      "--language",
      "--provider",
      "--from",
      "--batch-size",
      "--json",
      "--sandbox",
      "--bitrix24-token-file",
      ...settings.map((setting) => flagOf(setting.env))
    ]
    const lines = run.stdout.split("\n")
    for (const flag of flags) {
      // Listed with a description, not just named.
      const line = lines.find((candidate) => candidate.trimStart().startsWith(`${flag} `))
      expect(line, flag).toBeDefined()
      expect(line?.trim().split(/\s{2,}/)[1]?.length ?? 0, flag).toBeGreaterThan(20)
    }
    for (const setting of settings) {
      expect(run.stdout).toContain(setting.env)
      if (setting.secret === true) expect(run.stdout).toContain(`prefer the environment variable ${setting.env}`)
    }
    for (const text of [
      "ENVIRONMENT",
      "REWORD_PROVIDER",
      "EXIT CODES",
      "0  success",
      "2  bad input",
      "3  the provider refused or failed",
      "with --from: 3 if any line failed for a provider reason, else 2 if any line was invalid, else 0",
      "nothing leaves this machine",
      "<redacted>",
      "updated 120/1000, failed 3"
    ]) {
      expect(run.stdout).toContain(text)
    }
  })

  it("reword sandbox --help explains its options", async () => {
    const run = await reword(["sandbox", "--help"])
    expect(run.code).toBe(0)
    for (const text of ["--port", "--seed", "--json", "bitrix24", "acquire", "all", "Nothing leaves this machine"]) {
      expect(run.stdout).toContain(text)
    }
  })

  it("reword tenants --help explains its options, the registry and the output", async () => {
    const run = await reword(["tenants", "--help"])
    expect(run.code).toBe(0)
    for (const text of [
      "--registry-prefix",
      "--state",
      "--limit",
      "REWORD_TENANTS_TABLE_PREFIX",
      "REWORD_TENANT_KEY is not read",
      "oldestPendingAgeMs"
    ]) {
      expect(run.stdout).toContain(text)
    }
    const outbox = await reword(["outbox", "--help"])
    expect(outbox.stdout).toMatch(/^\s+--tenant id\s+Only messages of this tenant/m)
  })

  it("--version is the package's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string
    }
    const run = await reword(["--version"])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(version)
  })

  it("the bin is src/bin.ts built to dist/bin.js, a node script", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      bin: Record<string, string>
    }
    expect(manifest.bin).toEqual({ reword: "./dist/bin.js" })
    expect(readFileSync(new URL("../src/bin.ts", import.meta.url), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node")
  })

  it("a bare or unknown command is bad input (exit 2)", async () => {
    const bare = await reword([])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toContain("SUBCOMMANDS")
    const unknown = await reword(["upadte"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('error: Unknown subcommand "upadte"')
    expect(unknown.stdout).toBe("")
  })
})

describe("the README", () => {
  it("documents every option of every command, every setting's variable, and the exit codes", async () => {
    const runs = await Promise.all([
      reword(["update", "--help"]),
      reword(["sandbox", "--help"]),
      reword(["tenants", "--help"])
    ])
    const flags = new Set(runs.flatMap((run) => listedFlags(run.stdout)))
    expect(flags.size).toBeGreaterThan(25)
    for (const flag of flags) expect(readme, flag).toContain(`\`${flag}`)
    for (const setting of settings) expect(readme, setting.env).toContain(`\`${setting.env}\``)
    for (const code of ["| 0    |", "| 2    |", "| 3    |", "| 4    |", "| 1    |", "| 130  |"])
      expect(readme).toContain(code)
  })
})
