import { loadConfig } from './config/index.js'
const config = loadConfig()
console.log(JSON.stringify({ msg: 'config loaded', machines: config.machineIds.length }))
