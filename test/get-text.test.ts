// Text keys take a shortcut on both engines (encoded straight into the request, or used as the
// engine's key form when ASCII); they must find exactly what the same key as bytes finds.
import { describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';

const fresh = engineFactory();
const utf8 = new TextEncoder();

describe.each(ENGINE_KINDS)('getText (%s engine)', (kind) => {
  it.each([
    ['ascii', 'config/a'],
    ['latin-1 range', 'café'],
    ['astral plane', 'key-😀'],
    ['nul inside', 'a\u0000b'],
    // Up to 20 chars are copied char by char until the first non-ASCII one; longer ones go
    // through encodeInto: both sides of the cutoff, and the switch at any position.
    ['20-char ascii', 'k'.repeat(20)],
    ['21-char ascii', 'k'.repeat(21)],
    ['non-ascii first', 'ékey'],
    ['non-ascii last of 20', 'k'.repeat(19) + 'é'],
    ['non-ascii past the cutoff', 'k'.repeat(24) + 'é'],
    ['astral pair at the cutoff', 'k'.repeat(19) + '😀'],
  ])('a %s key is found as text and as bytes alike', (_name, key) => {
    const e = fresh(kind);
    e.applyBatch(
      new BatchWriter()
        .put(key, 'v')
        .put(key + '!', 'other')
        .peek(),
    );
    const asText = e.getText(key);
    const asBytes = e.get(utf8.encode(key));
    expect(asText).toEqual(asBytes);
    expect(Array.from(asText!.key)).toEqual(Array.from(utf8.encode(key)));
    expect(e.getText(key + '?')).toBeUndefined();
  });

  // UTF-8 has no encoding for a lone surrogate (TextEncoder writes U+FFFD): refused, short or long.
  it.each(['key-\ud800-x', '\udc00', 'k'.repeat(30) + '\ud800', 'k'.repeat(30_000) + '\udfff'])(
    'refuses a key with a lone surrogate (%#) with ERR_INVALID_TYPE',
    (key) => {
      const e = fresh(kind);
      expect(() => e.getText(key)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE' }));
    },
  );

  it('refuses a non-string key with ERR_INVALID_TYPE', () => {
    const e = fresh(kind);
    expect(() => e.getText(utf8.encode('a') as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE' }));
  });
});
