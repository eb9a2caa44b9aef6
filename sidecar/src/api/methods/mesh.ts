import type { Handlers } from '../dispatch.ts'
import type { Sidecar } from '../../daemon/sidecar.ts'
import { decodeInvite, encodeInvite } from '../../mesh/invite.ts'
import { meshIdFromSecret, meshSecretBytes, newMeshRecord, publicMesh } from '../../mesh/mesh-key.ts'
import { DIAL_TIMEOUT_MS } from '../../node/constants.ts'

/** Orders addresses for an invite: LAN before loopback, IPv4 before IPv6; strips /p2p/. */
function inviteAddrs (addrs: string[]): string[] {
  const rank = (a: string): number => (a.includes('/127.') || a.includes('/::1/') ? 2 : 0) + (a.startsWith('/ip6/') ? 1 : 0)
  return [...new Set(addrs.map(a => a.replace(/\/p2p\/[^/]+$/, '')))].sort((a, b) => rank(a) - rank(b))
}

export function meshMethods (s: Sidecar): Pick<Handlers, 'mesh.create' | 'mesh.invite' | 'mesh.join' | 'mesh.leave'> {
  return {
    'mesh.create': async ({ name }) => {
      const mesh = newMeshRecord(name ?? `${s.displayName}'s mesh`.slice(0, 64), false)
      await s.switchMesh(mesh)
      return { mesh: publicMesh(mesh) }
    },
    'mesh.invite': async () => {
      const m = await s.mesh()
      const code = encodeInvite({ meshName: m.mesh.name, secret: meshSecretBytes(m.mesh), inviter: m.peerId, addrs: inviteAddrs(m.listenAddrs()) })
      return { code, mesh: publicMesh(m.mesh) }
    },
    'mesh.join': async ({ code }, { signal }) => {
      const inv = decodeInvite(code)
      let m = await s.mesh()
      if (meshIdFromSecret(inv.secret) !== m.mesh.id) {
        await s.switchMesh(newMeshRecord(inv.meshName, false, inv.secret))
        m = await s.mesh()
      }
      if (inv.inviter === m.peerId) return { mesh: publicMesh(m.mesh), inviter: inv.inviter, connected: true }
      await m.addMember(inv.inviter, inv.addrs)
      try {
        await m.dialPeer(inv.inviter, AbortSignal.any([signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]))
        return { mesh: publicMesh(m.mesh), inviter: inv.inviter, connected: true }
      } catch (err) {
        return { mesh: publicMesh(m.mesh), inviter: inv.inviter, connected: false, error: (err as Error).message }
      }
    },
    'mesh.leave': async () => {
      const left = publicMesh((await s.mesh()).mesh)
      const mesh = newMeshRecord(`${s.displayName}'s mesh`.slice(0, 64), true)
      await s.switchMesh(mesh, { forgetOld: true })
      return { left, mesh: publicMesh(mesh) }
    }
  }
}
