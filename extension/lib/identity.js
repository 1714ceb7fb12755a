// Names shared with the Python host (host/codecatch/identity.py and PROTOCOL.md).
// tests/node/manifest.test.js checks that both sides agree.

/** The native-messaging host's name, as passed to runtime.connectNative. */
export const HOST_NAME = 'com.codecatch.host';

/** The PROTOCOL.md version this extension speaks. */
export const PROTOCOL_VERSION = 1;

/** Firefox's add-on id (browser_specific_settings.gecko.id). */
export const GECKO_ID = 'codecatch@codecatch.dev';
