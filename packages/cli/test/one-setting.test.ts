/**
 * One setting, declared once: a test-only provider built on core's settings
 * kit adds `region`, and gets its environment variable, its key in a settings
 * object, its command-line flag and its error messages from that one line,
 * nowhere else.
 */
import { RewordCommand } from "@reword/cli"
import { Capabilities, EditedMessage, EditRequest, type MessageEditor } from "@reword/core"
import { ProviderKit } from "@reword/core/adapter"
import { ConfigurationError, createEditor } from "@reword/core/promise"
import { Console, Effect, Exit, Option, Result, Stream } from "effect"
import { describe, expect, it } from "vitest"

/** The one declaration: `region` is the setting added. */
const widgetSettings = ProviderKit.declareSettings({
  name: "widget",
  fields: {
    account: ProviderKit.text({ env: "WIDGET_ACCOUNT", description: "the widget account" }),
    region: ProviderKit.text({ env: "WIDGET_REGION", description: "the data region of the account" })
  },
  check: (raw) => Result.succeed({ account: raw.account.trim(), region: raw.region.trim() })
})

const editorFor = (settings: { readonly account: string; readonly region: string }): MessageEditor.Service => ({
  provider: "widget",
  capabilities: new Capabilities.Capabilities({
    requiredIds: ["providerMessageId"],
    files: false,
    authorDetails: false,
    chatDetails: false,
    language: false,
    maxMessagesPerCall: 1
  }),
  update: (input) =>
    Effect.map(Effect.orDie(EditRequest.decode(input)), (request) => {
      return new EditedMessage.EditedMessage({
        provider: "widget",
        ids: request.ids,
        text: `${request.text ?? ""} @${settings.account}/${settings.region}`,
        files: []
      })
    }),
  updateMany: () => Effect.die(new Error("unused")),
  updateStream: () => Stream.die(new Error("unused"))
})

const widget = ProviderKit.describe({
  name: "widget" as const,
  settings: widgetSettings.settings,
  config: widgetSettings.config,
  declaration: widgetSettings,
  make: (settings) => Effect.succeed(editorFor(settings))
})

const runInProcess = async (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const capture: Console.Console = Object.assign(Object.create(console), {
    log: (...parts: ReadonlyArray<unknown>) => stdout.push(parts.map(String).join(" ")),
    error: (...parts: ReadonlyArray<unknown>) => stderr.push(parts.map(String).join(" "))
  })
  const exit = await Effect.runPromiseExit(
    RewordCommand.runWith(args, { providers: [widget], env: () => ({ REWORD_PROVIDER: "widget", ...env }) }).pipe(
      Effect.provide(RewordCommand.layerNode),
      Effect.provideService(Console.Console, capture)
    )
  )
  const code = Exit.isSuccess(exit)
    ? 0
    : Option.match(Exit.findErrorOption(exit), { onNone: () => -1, onSome: (error) => error.exitCode })
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") }
}

describe("a setting added to one declaration", () => {
  it("is in the settings table with its variable and key", () => {
    expect(widget.settings).toContainEqual({
      env: "WIDGET_REGION",
      key: "region",
      description: "the data region of the account"
    })
  })

  it("is read from its environment variable, and named by it when missing", async () => {
    const editor = await createEditor({ providers: widget, env: { WIDGET_ACCOUNT: "acme", WIDGET_REGION: "eu" } })
    const edited = await editor.update({ ids: { providerMessageId: "1" }, text: "hi" })
    expect(edited.text).toBe("hi @acme/eu")
    await editor.dispose()
    const missing = await createEditor({ providers: widget, env: { WIDGET_ACCOUNT: "acme" } }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ConfigurationError)
    expect((missing as Error).message).toBe("Missing setting for widget: WIDGET_REGION: the data region of the account")
  })

  it("is read from its key in a settings object, and a misspelled key is refused with a did you mean", async () => {
    const editor = await createEditor({ providers: widget, settings: { widget: { account: "acme", region: "us" } } })
    expect((await editor.update({ ids: { providerMessageId: "1" }, text: "hi" })).text).toBe("hi @acme/us")
    await editor.dispose()
    const misspelled = await createEditor({
      providers: widget,
      // @ts-expect-error a misspelled key does not compile
      settings: { widget: { account: "acme", regoin: "us" } }
    }).catch((e: unknown) => e)
    expect(misspelled).toBeInstanceOf(ConfigurationError)
    expect((misspelled as Error).message).toContain(
      `Unknown setting "regoin" in widget (the settings object) (did you mean region?)`
    )
    const missing = await createEditor({ providers: widget, settings: { widget: { account: "acme" } } as never }).catch(
      (e: unknown) => e
    )
    expect((missing as Error).message).toBe(
      "Missing setting for widget: WIDGET_REGION (widget.region in the settings object): the data region of the account"
    )
  })

  it("is a flag of the command, overriding its variable, listed in the help", async () => {
    const help = await runInProcess(["update", "--help"], {})
    expect(help.stdout).toContain("--widget-region")
    expect(help.stdout).toContain("Overrides WIDGET_REGION")
    const flagged = await runInProcess(
      ["update", "--provider-message-id", "1", "--text", "hi", "--widget-region", "ap", "--json"],
      { WIDGET_ACCOUNT: "acme", WIDGET_REGION: "eu" }
    )
    expect(flagged.code).toBe(0)
    expect(JSON.parse(flagged.stdout)).toMatchObject({ text: "hi @acme/ap" })
    const missing = await runInProcess(["update", "--provider-message-id", "1", "--text", "hi"], {
      WIDGET_ACCOUNT: "acme"
    })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("WIDGET_REGION")
    expect(missing.stderr).toContain("the data region of the account")
  })
})
