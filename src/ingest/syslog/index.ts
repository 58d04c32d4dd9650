/** Syslog over UDP, TCP and TLS: listeners that frame and batch, for a sink. See docs/syslog.md. */
export { startSyslogServer, formatPeer, SYSLOG_DEFAULTS } from './server.js';
export {
  StreamFramer,
  type FramerEnd,
  type FramerLimits,
  type FrameCallback,
  type FramingError,
} from './framing.js';
export {
  SYSLOG_TRANSPORTS,
  type SyslogErrorContext,
  type SyslogFrame,
  type SyslogListenerStats,
  type SyslogServer,
  type SyslogServerOptions,
  type SyslogSink,
  type SyslogTlsOptions,
  type SyslogTransport,
} from './types.js';
