"""Names and ids that the extension, the host manifests and the installer share."""

# The native-messaging host's name, as the extension passes it to connectNative.
HOST_NAME = "com.codecatch.host"

# Chromium derives an unpacked extension's id from the public key in manifest.json
# (`key`): the first 32 hex digits of sha256(DER), each mapped 0-f -> a-p.
CHROMIUM_EXTENSION_ID = "afdiggcodfmlmfgahehpipblkeadebei"
MANIFEST_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAteiDnWJj8Xhsm3OXOtU8oL12XU28cmIjzCwB+IKn9uN+ngPxZt1SD2nXrzIZ6AvaqRA22suGh2PiouYVaNMa/yAeAhR3S516YkZIqtkowHsUFJRL/1Ix+3rqokAHzfCBHXOh98WygEWquiuAQEs/zw4fWbii7sOWhPOxMqXfiqMojI5QtsOTPdNaaSWmywKlatEO+jYdflOdmSUrx+ptmnF3LqxtM89WCrVDeEsbGJrX6vLu9IABNVHPpbOGRH871Nt4cf9XqnhQH/60FZAe7t6zTH301QEg1ryC/FR8G4urKTDLnux2pTn65reNSlsxtmejW334UZVaVJOPFllU5QIDAQAB"
)

# Firefox identifies the add-on by browser_specific_settings.gecko.id.
GECKO_ID = "codecatch@codecatch.dev"
