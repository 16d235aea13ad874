/**
 * What the nock-based tests share: a key, the documented host, an editor and a
 * client on it that never retry unless asked, and nock set to refuse the network.
 */
import { afterAll, afterEach, beforeAll } from "@effect/vitest"
import { Acquire, AcquireClient, type AcquireConfig } from "@reword/acquire"
import type { MessageEditor } from "@reword/core"
import { Effect, Redacted } from "effect"
import nock from "nock"

export const API_KEY = "acq_live_9F8e7D6c5B4a3210zz"
export const ORIGIN = "https://acme.acquire.io"
export const updatePath = (id: number | string) => `/api/v1/crm/messenger/chat/message/${id}`
export const messagePath = (id: number | string) => `/api/v1/crm/objects/case-message/${id}`

export const settings = { accountId: "acme", apiKey: Redacted.make(API_KEY) }

/** An editor on the documented host that never retries unless asked; `given` overrides settings. */
export const makeEditor = (
  options: Acquire.Options = {},
  given: Partial<AcquireConfig.SettingsInput> = {}
): Effect.Effect<MessageEditor.Service> =>
  Effect.orDie(Acquire.make({ ...settings, ...given }, { retry: { maxAttempts: 1 }, ...options }))

/** A client on the documented host. */
export const makeClient = (
  options: AcquireClient.Options = {},
  given: Partial<AcquireConfig.SettingsInput> = {}
): Effect.Effect<AcquireClient.Service> => Effect.orDie(AcquireClient.make({ ...settings, ...given }, options))

/** nock refuses every request it was not told about, and forgets interceptors between tests. */
export const useNock = (): void => {
  beforeAll(() => {
    // Workers are shared between files: nock intercepts for this file only (test/setup/nock-at-rest.ts).
    if (!nock.isActive()) nock.activate()
    nock.disableNetConnect()
  })
  afterEach(() => {
    nock.cleanAll()
  })
  afterAll(() => nock.enableNetConnect())
}

/** Counts every request to any host, answering 200 with `answer`: for tests that must send nothing. */
export const countRequests = (answer: unknown = { data: { id: 1 } }): { readonly count: () => number } => {
  let count = 0
  const reply = (): [number, unknown] => {
    count += 1
    return [200, answer]
  }
  nock(/./).persist().post(/./).reply(reply).get(/./).reply(reply).delete(/./).reply(reply)
  return { count: () => count }
}
