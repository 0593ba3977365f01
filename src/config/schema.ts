/**
 * The one settings schema (DESIGN §3). Each property names its environment variable;
 * defaults live here and nowhere else.
 */
import { Type, type Static } from 'typebox'

const Port = Type.Integer({ minimum: 0, maximum: 65535 })

/** property -> environment variable; also the names accepted in a config file. */
export const EnvNames = {
  dataDir: 'HUB_DATA_DIR',
  mqttHost: 'HUB_MQTT_HOST',
  mqttPort: 'HUB_MQTT_PORT',
  httpHost: 'HUB_HTTP_HOST',
  httpPort: 'HUB_HTTP_PORT',
  mqttWsPort: 'HUB_MQTT_WS_PORT',
  mqttTlsPort: 'HUB_MQTT_TLS_PORT',
  tlsCert: 'HUB_TLS_CERT',
  tlsKey: 'HUB_TLS_KEY',
  machines: 'HUB_MACHINES',
  layout: 'HUB_LAYOUT',
  timezone: 'HUB_TIMEZONE',
  locale: 'HUB_LOCALE',
  timeFormat: 'HUB_TIME_FORMAT',
  slotMinutes: 'HUB_SLOT_MINUTES',
  bufferMinutes: 'HUB_BUFFER_MINUTES',
  openingHours: 'HUB_OPENING_HOURS',
  offlineGraceSeconds: 'HUB_OFFLINE_GRACE_SECONDS',
  maxOverrideMinutes: 'HUB_MAX_OVERRIDE_MINUTES',
  mqttAllowAnonymous: 'HUB_MQTT_ALLOW_ANONYMOUS',
  mqttMaxKeepalive: 'HUB_MQTT_MAX_KEEPALIVE',
  mqttMaxPacket: 'HUB_MQTT_MAX_PACKET',
  mqttMaxIdLength: 'HUB_MQTT_MAX_ID_LENGTH',
  mqttRate: 'HUB_MQTT_RATE',
  mqttBurst: 'HUB_MQTT_BURST',
  mqttMachineRate: 'HUB_MQTT_MACHINE_RATE',
  mqttAuthFailures: 'HUB_MQTT_AUTH_FAILURES',
  mqttAuthBackoffMaxS: 'HUB_MQTT_AUTH_BACKOFF_MAX_S',
  adminToken: 'HUB_ADMIN_TOKEN',
  simulate: 'HUB_SIMULATE',
  commandTimeoutMs: 'HUB_COMMAND_TIMEOUT_MS',
  commandRetries: 'HUB_COMMAND_RETRIES',
  logLevel: 'HUB_LOG_LEVEL',
  siteId: 'HUB_SITE_ID',
  cloudUrl: 'HUB_CLOUD_URL',
  cloudToken: 'HUB_CLOUD_TOKEN',
  cloudPullSeconds: 'HUB_CLOUD_PULL_SECONDS',
  webhookSecret: 'HUB_WEBHOOK_SECRET',
  uplinkUrl: 'HUB_UPLINK_URL',
  uplinkToken: 'HUB_UPLINK_TOKEN',
  uplinkPersonalData: 'HUB_UPLINK_PERSONAL_DATA',
  bridgeUrl: 'HUB_BRIDGE_URL',
  bridgeUsername: 'HUB_BRIDGE_USERNAME',
  bridgePassword: 'HUB_BRIDGE_PASSWORD',
  bridgeCa: 'HUB_BRIDGE_CA',
  bridgeTopics: 'HUB_BRIDGE_TOPICS',
  bridgeMaxBacklog: 'HUB_BRIDGE_MAX_BACKLOG',
  liveMaxClients: 'HUB_LIVE_MAX_CLIENTS',
  httpAuthFailuresPerMinute: 'HUB_HTTP_AUTH_FAILURES_PER_MINUTE',
  httpBookingsPerMinute: 'HUB_HTTP_BOOKINGS_PER_MINUTE',
  staffIdleMinutes: 'HUB_STAFF_IDLE_MINUTES',
  staffSessionHours: 'HUB_STAFF_SESSION_HOURS',
  auditRetentionDays: 'HUB_AUDIT_RETENTION_DAYS',
  archiveAfterDays: 'HUB_ARCHIVE_AFTER_DAYS',
  enrollSecret: 'HUB_ENROLL_SECRET',
  enrollMaxPending: 'HUB_ENROLL_MAX_PENDING',
  firmwareMaxBytes: 'HUB_FIRMWARE_MAX_BYTES',
  firmwarePublicKey: 'HUB_FIRMWARE_PUBLIC_KEY',
  firmwareUpdateTimeoutS: 'HUB_FIRMWARE_UPDATE_TIMEOUT_S',
  firmwareUrl: 'HUB_FIRMWARE_URL',
  holdMinutes: 'HUB_HOLD_MINUTES',
  currency: 'HUB_CURRENCY',
  noShowMinutes: 'HUB_NO_SHOW_MINUTES',
  noShowPolicy: 'HUB_NO_SHOW_POLICY',
  paymentUrl: 'HUB_PAYMENT_URL',
  paymentSecret: 'HUB_PAYMENT_SECRET',
  paymentPollSeconds: 'HUB_PAYMENT_POLL_SECONDS',
} as const

export type SettingName = keyof typeof EnvNames

function OptionalString(description: string) {
  return Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description })
}

export const Settings = Type.Object({
  dataDir: Type.String({ minLength: 1, default: './data', description: 'LevelDB and other state' }),
  mqttHost: Type.String({ minLength: 1, default: '127.0.0.1', description: 'MQTT listeners bind here' }),
  mqttPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1883, description: 'MQTT TCP port (0 = pick a free port)' }),
  httpHost: Type.String({ minLength: 1, default: '127.0.0.1' }),
  httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  mqttWsPort: Type.Union([Port, Type.Null()], { default: null, description: 'MQTT over WebSocket (off when unset)' }),
  mqttTlsPort: Type.Union([Port, Type.Null()], { default: null, description: 'MQTT over TLS (off when unset)' }),
  tlsCert: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
  tlsKey: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
  machines: Type.String({ minLength: 1, default: '1-20', description: 'machine ids: ranges and lists, e.g. 1-80 or 1,2,5-9' }),
  layout: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    default: null,
    description: 'rows of adjacent bays separated by ";", e.g. 1-40;41-80 (default: one row)',
  }),
  timezone: Type.String({ default: '', description: 'IANA zone for schedule dates (default: system zone)' }),
  // The venue's way of writing dates and times on the admin and kiosk pages (issue 18): the same on
  // every tablet, whatever language or region the tablet's browser is set to.
  locale: Type.String({ minLength: 2, maxLength: 35, default: 'en-GB', description: 'BCP 47 language tag for dates on the pages, e.g. en-GB, de-CH' }),
  timeFormat: Type.Enum(['24h', '12h'], { default: '24h', description: 'clock times on the pages: 24h (16:30) or 12h (4:30 PM)' }),
  slotMinutes: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
  bufferMinutes: Type.Integer({ minimum: 0, maximum: 120, default: 0 }),
  openingHours: Type.Union([Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' }), Type.Null()], {
    default: null,
    description: 'opening hours, e.g. 08:00-22:00: the grid, and kiosk/reservation bookings must lie inside (default: whole day)',
  }),
  offlineGraceSeconds: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: 60,
    description: 'a bay offline this long is not sold to kiosk/reservation (a short reconnect is not)',
  }),
  maxOverrideMinutes: Type.Integer({
    minimum: 1,
    maximum: 24 * 60,
    default: 240,
    description: 'deadline of an admin "active" override sent without scheduled_until (capped at closing time)',
  }),
  mqttAllowAnonymous: Type.Boolean({ default: false }),
  mqttMaxKeepalive: Type.Integer({ minimum: 1, maximum: 65535, default: 10, description: 'largest keep-alive (s) a dispenser may use' }),
  // Broker limits (DESIGN §9, mosquitto/EMQX-style). 268435455 is the largest MQTT 3.1.1 remaining length.
  mqttMaxPacket: Type.Integer({ minimum: 1024, maximum: 268435460, default: 65536, description: 'largest MQTT packet (bytes, whole packet); bigger closes the connection before it is buffered' }),
  mqttMaxIdLength: Type.Integer({ minimum: 23, maximum: 65535, default: 128, description: 'longest client id and username (characters)' }),
  mqttRate: Type.Integer({ minimum: 1, maximum: 100000, default: 10, description: 'messages/s per node client on internal/manager and internal/handler' }),
  mqttBurst: Type.Integer({ minimum: 1, maximum: 100000, default: 30, description: 'burst allowed above HUB_MQTT_RATE' }),
  mqttMachineRate: Type.Integer({ minimum: 1, maximum: 100000, default: 50, description: 'messages/s per dispenser on external/handler (burst 4x)' }),
  mqttAuthFailures: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'failed logins per username or address before back-off' }),
  mqttAuthBackoffMaxS: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'longest back-off (s) after failed logins' }),
  adminToken: Type.Union([Type.String({ minLength: 16 }), Type.Null()], { default: null }),
  simulate: Type.Integer({ minimum: 0, maximum: 5000, default: 0 }),
  commandTimeoutMs: Type.Integer({ minimum: 50, maximum: 60000, default: 2000 }),
  commandRetries: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
  logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  // Cloud link (DESIGN §1, §8): everything off until a URL is set; the range works without it.
  siteId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'site', description: 'this venue in uplink event ids and bridged topics' }),
  cloudUrl: OptionalString('reservation API base URL (pull + status reports)'),
  cloudToken: OptionalString('bearer token for the reservation API'),
  cloudPullSeconds: Type.Integer({ minimum: 5, maximum: 86400, default: 60 }),
  webhookSecret: OptionalString('HMAC-SHA256 secret of POST /api/link/reservations'),
  uplinkUrl: OptionalString('HTTPS endpoint receiving session, machine and alert events'),
  uplinkToken: OptionalString('bearer token for the uplink endpoint'),
  uplinkPersonalData: Type.Boolean({ default: false, description: 'send booking details (customer name, phone, e-mail, notes) upstream: uplink events and bridged topics' }),
  bridgeUrl: OptionalString('remote MQTT broker, mqtt:// or mqtts://'),
  bridgeUsername: OptionalString('remote broker username'),
  bridgePassword: OptionalString('remote broker password'),
  bridgeCa: OptionalString('CA file (PEM) for mqtts://'),
  bridgeTopics: Type.String({ minLength: 1, default: 'internal/admin', description: 'comma list of topic filters to bridge' }),
  bridgeMaxBacklog: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 200_000, description: 'most bridged messages waiting for the remote broker; further ones are dropped and counted' }),
  // HTTP limits (issue 10): a kiosk tablet or a stranger on the venue LAN cannot exhaust the Pi.
  liveMaxClients: Type.Integer({ minimum: 1, maximum: 10000, default: 64, description: 'most open /api/live WebSocket connections' }),
  httpAuthFailuresPerMinute: Type.Integer({ minimum: 1, maximum: 100000, default: 20, description: 'failed token checks per address and minute before 429' }),
  httpBookingsPerMinute: Type.Integer({ minimum: 1, maximum: 100000, default: 120, description: 'POST/PATCH/DELETE /api/sessions per token and minute before 429' }),
  // Staff sign-in (issue 13): a counter tablet left signed in locks itself after the idle time.
  staffIdleMinutes: Type.Integer({ minimum: 1, maximum: 24 * 60, default: 30, description: 'a staff sign-in ends after this long without use' }),
  staffSessionHours: Type.Integer({ minimum: 1, maximum: 24 * 31, default: 12, description: 'a staff sign-in ends this long after it began' }),
  auditRetentionDays: Type.Integer({ minimum: 1, maximum: 36500, default: 730, description: 'audit entries older than this are deleted' }),
  // Issue 13: ended sessions leave the live index (start-up load, conflict and grid scans) for the archive.
  // 35 days keeps last month's grids and late changes (marking paid, credits) on live data.
  archiveAfterDays: Type.Integer({ minimum: 1, maximum: 3650, default: 35, description: 'sessions that ended more than this many days ago move to the archive (reports and GET /api/sessions/:id still read them)' }),
  // Fleet (issue 16): adoption and firmware updates.
  enrollSecret: Type.Union([Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }), Type.Null()], {
    default: null,
    description: 'shared secret of the enrollment login (default: generated into data/enroll-secret)',
  }),
  enrollMaxPending: Type.Integer({ minimum: 1, maximum: 10000, default: 64, description: 'most devices waiting for a bay at once; more announcements are dropped' }),
  firmwareMaxBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024, description: 'largest firmware image accepted (bytes)' }),
  firmwarePublicKey: OptionalString('Ed25519 public key (PEM file path or base64 of the 32 raw bytes): uploads must then be signed by it'),
  firmwareUpdateTimeoutS: Type.Integer({ minimum: 10, maximum: 86400, default: 300, description: 'a bay not back on the new version this long after the update command is marked update failed' }),
  firmwareUrl: OptionalString('base URL dispensers download images from (default http://HUB_HTTP_HOST:port; 192.168.4.1 when bound to all addresses)'),
  // Prices and payments (issue 12): a kiosk booking waits `held` for its payment.
  holdMinutes: Type.Integer({ minimum: 1, maximum: 120, default: 10, description: 'an unpaid kiosk booking (held) is released after this long' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', description: 'currency of the price table until one is saved (ISO 4217)' }),
  noShowMinutes: Type.Integer({ minimum: 1, maximum: 240, default: 15, description: 'a reservation not checked in this long after its start is a no-show' }),
  noShowPolicy: Type.Enum(['release', 'keep'], { default: 'release', description: 'what happens to a no-show: release its bays, or keep it' }),
  paymentUrl: OptionalString('payment terminal / gateway base URL (POST {url}/payments, GET {url}/payments/{id}); off when unset'),
  paymentSecret: OptionalString('HMAC-SHA256 secret of the gateway\'s callbacks (and the bearer token of the hub\'s requests)'),
  paymentPollSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'how often pending terminal payments are polled' }),
})
export type Settings = Static<typeof Settings>
