/**
 * Every provider sandbox fulfils one contract (`test/support/sandboxContract.ts`),
 * through their public API only.
 */
import { Acquire } from "@reword/acquire"
import { AcquireSandbox } from "@reword/acquire/sandbox"
import { Bitrix24 } from "@reword/bitrix24"
import { Bitrix24Sandbox } from "@reword/bitrix24/sandbox"
import { Telegram } from "@reword/telegram"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { sandboxContract } from "./support/sandboxContract.ts"

sandboxContract({ name: "acquire", start: () => AcquireSandbox.start(), provider: Acquire.provider })
sandboxContract({ name: "bitrix24", start: () => Bitrix24Sandbox.start(), provider: Bitrix24.provider })
sandboxContract({ name: "telegram", start: () => TelegramSandbox.start(), provider: Telegram.provider })
