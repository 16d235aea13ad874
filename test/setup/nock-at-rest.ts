/**
 * A vitest worker runs many test files one after another (`isolate: false`), and a module, nock included, lives
 * as long as the worker. Once imported, nock intercepts every request of its process: it would buffer a later
 * file's streamed request body whole, and refuse its sandbox's connections if a file left `disableNetConnect()`
 * on. So each file starts with nock at rest (not intercepting, no interceptor, every connection allowed), and a
 * file that uses nock turns it on in its own `beforeAll` (`nock.activate()`); test/isolation.test.ts checks that.
 */
import nock from "nock"

nock.cleanAll()
nock.enableNetConnect()
if (nock.isActive()) nock.restore()
