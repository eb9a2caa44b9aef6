import type { Handlers } from '../dispatch.ts'
import type { Sidecar } from '../../daemon/sidecar.ts'

export function nodeMethods (s: Sidecar): Pick<Handlers, 'node.status' | 'node.setName' | 'node.shutdown'> {
  return {
    'node.status': async () => s.status(),
    'node.setName': async ({ name }) => {
      s.setName(name)
      return { name }
    },
    'node.shutdown': async () => {
      // let the reply leave before the sockets close
      setTimeout(() => { void s.shutdown('node.shutdown request') }, 50).unref()
      return { stopping: true }
    }
  }
}
