"""codecatch: catch the authorization code from Microsoft's native redirects."""

__version__ = "0.1.0"

# The native-messaging protocol version the host speaks (PROTOCOL.md).
PROTOCOL_VERSION = 1
