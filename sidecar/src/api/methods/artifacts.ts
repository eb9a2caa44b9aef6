import type { Handlers } from '../dispatch.ts'
import type { Sidecar } from '../../daemon/sidecar.ts'

export function artifactMethods (s: Sidecar): Pick<Handlers, 'artifacts.publish' | 'artifacts.fetch' | 'artifacts.list' | 'artifacts.remove' | 'artifacts.pin' | 'transfers.list' | 'transfers.cancel' | 'store.status' | 'store.configure' | 'store.verify'> {
  return {
    'artifacts.publish': async (p) => { await s.mesh(); return { transfer: await s.artifacts.publish(p) } },
    'artifacts.fetch': async (p) => { await s.mesh(); return { transfer: await s.artifacts.fetch(p) } },
    'artifacts.list': async () => { await s.mesh(); return { artifacts: s.artifacts.list() } },
    'artifacts.remove': async ({ artifact }) => { await s.mesh(); return { artifact: await s.artifacts.remove(artifact) } },
    'artifacts.pin': async ({ artifact, pinned }) => { await s.mesh(); return { artifact: await s.artifacts.pin(artifact, pinned) } },
    'transfers.list': async () => ({ transfers: s.artifacts.listTransfers() }),
    'transfers.cancel': async ({ id }) => ({ transfer: s.artifacts.cancel(id) }),
    'store.status': async () => s.artifacts.status(),
    'store.configure': async (p) => s.configureStore(p),
    'store.verify': async (_p, ctx) => s.artifacts.verify(ctx.signal)
  }
}
