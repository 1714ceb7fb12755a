// The classes of the host's error codes (PROTOCOL.md, "Error codes"): what to do with
// the input that got the error, without knowing the code itself. Pure.
// The host's table is host/codecatch/errors.py (ERROR_CLASSES); tests/test_protocol_doc.py
// checks that both and PROTOCOL.md agree.

/** code range (inclusive) -> class. Codes are append-only; a new one goes in the class whose advice fits it. */
export const ERROR_CLASSES = Object.freeze([
  Object.freeze({ from: 1, to: 9, name: 'host_fault' }), // the host failed: keep the input and retry
  Object.freeze({ from: 10, to: 19, name: 'bad_message' }), // the message itself is wrong: a client bug
  Object.freeze({ from: 20, to: 39, name: 'refused' }), // the input is refused: drop it
  Object.freeze({ from: 40, to: 49, name: 'configuration' }), // the configuration sent is not valid
]);

/** The class of a host error code ('host_fault', 'bad_message', 'refused', 'configuration'), or null
 * (a local failure's null code, or a number outside every class). */
export function errorClass(code) {
  if (!Number.isInteger(code)) return null;
  return ERROR_CLASSES.find((c) => code >= c.from && code <= c.to)?.name ?? null;
}

/** True when the host refused the input itself (codes 20-39): drop it, do not retry. */
export function isRefusal(code) {
  return errorClass(code) === 'refused';
}
