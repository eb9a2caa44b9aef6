import { readFileSync, writeFileSync, mkdirSync, chmodSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import type { Logger } from '../log/logger.ts'

/**
 * Loads the node's Ed25519 identity key, or creates it on first start. The file holds the
 * libp2p protobuf encoding and is kept at mode 0600 (tightened if someone loosened it).
 */
export async function loadOrCreateIdentity (path: string, log?: Logger): Promise<PrivateKey> {
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes !== undefined) {
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
      log?.warn('identity key %s was readable by others; setting mode 0600', path)
      chmodSync(path, 0o600)
    }
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new Error(`identity key ${path} is corrupt (${(err as Error).message}); move it away to create a new identity`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  log?.info('created a new identity in %s', path)
  return key
}
