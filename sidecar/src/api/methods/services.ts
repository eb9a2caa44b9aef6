import type { Handlers } from '../dispatch.ts'
import type { Sidecar } from '../../daemon/sidecar.ts'

export function serviceMethods (s: Sidecar): Pick<Handlers, 'services.share' | 'services.unshare' | 'services.list' | 'forwards.open' | 'forwards.close' | 'forwards.list'> {
  return {
    'services.share': async (p) => { await s.mesh(); return { service: s.forwarding.share(p) } },
    'services.unshare': async ({ name }) => { await s.mesh(); return { service: s.forwarding.unshare(name) } },
    'services.list': async () => { await s.mesh(); return { services: s.forwarding.services() } },
    'forwards.open': async (p) => { await s.mesh(); return { forward: await s.forwarding.open(p) } },
    'forwards.close': async ({ id }) => ({ forward: await s.forwarding.close(id) }),
    'forwards.list': async () => ({ forwards: s.forwarding.list() })
  }
}
