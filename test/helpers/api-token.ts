/** Adds an API token to a data dir's credentials.json, as the CLI's `token add` does; returns the token. */
import { apiTokenEntry, credentialsPath, newApiToken, readCredentials, writeCredentials } from '../../src/broker/credentials.js'
import type { ApiTokenRole } from '../../src/protocol/permissions.js'

export function addApiToken(dataDir: string, name: string, role: ApiTokenRole): string {
  const path = credentialsPath(dataDir)
  const file = readCredentials(path)
  const token = newApiToken(name)
  file.tokens[name] = apiTokenEntry(token, role)
  writeCredentials(path, file)
  return token
}
