"""The Windows registry behind one small interface.

Browsers on Windows find a host manifest through a key
`HKCU|HKLM\\Software\\<vendor>\\NativeMessagingHosts\\<host name>` whose default value
is the JSON file's path. `WinRegistry` talks to winreg; `MemoryRegistry` is the
stand-in that tests (and other operating systems) use.
"""

from __future__ import annotations

from typing import Optional, Protocol


class Registry(Protocol):
    def get(self, key: str) -> Optional[str]:
        """The default value of `key` ("HKCU\\Software\\..."), or None when absent."""

    def set(self, key: str, value: str) -> None:
        """Create `key` (and its parents) and set its default value."""

    def delete(self, key: str) -> None:
        """Delete `key` (a leaf); absent is fine."""


class MemoryRegistry:
    """An in-memory registry: keys are case-insensitive, as in Windows."""

    def __init__(self, values: Optional[dict[str, str]] = None):
        self._values: dict[str, tuple[str, str]] = {}
        for k, v in (values or {}).items():
            self.set(k, v)

    def get(self, key: str) -> Optional[str]:
        hit = self._values.get(key.lower())
        return hit[1] if hit else None

    def set(self, key: str, value: str) -> None:
        self._values[key.lower()] = (key, value)

    def delete(self, key: str) -> None:
        self._values.pop(key.lower(), None)

    def items(self) -> dict[str, str]:
        """Every key and its default value, keys as first written."""
        return {k: v for k, v in self._values.values()}


class WinRegistry:  # pragma: no cover - exercised on Windows only
    def __init__(self):
        import winreg

        self._w = winreg
        self._hives = {"HKCU": winreg.HKEY_CURRENT_USER, "HKLM": winreg.HKEY_LOCAL_MACHINE}

    def _split(self, key: str):
        hive, _, sub = key.partition("\\")
        return self._hives[hive.upper()], sub

    def get(self, key: str) -> Optional[str]:
        hive, sub = self._split(key)
        try:
            with self._w.OpenKey(hive, sub) as k:
                value, _ = self._w.QueryValueEx(k, "")
                return value
        except OSError:
            return None

    def set(self, key: str, value: str) -> None:
        hive, sub = self._split(key)
        with self._w.CreateKeyEx(hive, sub, 0, self._w.KEY_WRITE) as k:
            self._w.SetValueEx(k, "", 0, self._w.REG_SZ, value)

    def delete(self, key: str) -> None:
        hive, sub = self._split(key)
        try:
            self._w.DeleteKey(hive, sub)
        except FileNotFoundError:
            pass
