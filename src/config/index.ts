export { loadConfig, ConfigError, type Config } from './load.js'
export { Settings, EnvNames } from './schema.js'
export { parseIdList, parseLayout } from './ranges.js'
