import type { Handlers } from '../dispatch.ts'
import type { Sidecar } from '../../daemon/sidecar.ts'
import { ApiError } from '../errors.ts'

export function peerMethods (s: Sidecar): Pick<Handlers, 'peers.list' | 'peers.ping'> {
  return {
    'peers.list': async () => ({ peers: (await s.mesh()).peers() }),
    'peers.ping': async ({ peer }, { signal }) => {
      const m = await s.mesh()
      if (peer === m.peerId) throw new ApiError('INVALID_PARAMS', 'cannot ping this node itself', { path: '/params/peer' })
      if (m.peer(peer) === undefined) throw new ApiError('NOT_FOUND', `peer ${peer} is not a known member of mesh ${m.mesh.name}`)
      try {
        return { peer, rttMs: await m.ping(peer, signal) }
      } catch (err) {
        throw new ApiError('PEER_UNREACHABLE', `peer ${peer} did not answer a ping: ${(err as Error).message}`)
      }
    }
  }
}
