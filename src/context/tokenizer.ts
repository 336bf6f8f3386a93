/**
 * Token counting with a real BPE tokenizer (gpt-tokenizer, cl100k_base), not characters / 4.
 * Loaded lazily on first use: the encoder's tables take a few hundred milliseconds to load, which a run
 * that never touches the context manager should not pay.
 */

export interface Tokenizer {
  readonly name: string;
  count(text: string): number;
  /** The text of the first `n` tokens of `text` (a cut on a token boundary). */
  head(text: string, n: number): string;
}

let loading: Promise<Tokenizer> | undefined;

export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import('gpt-tokenizer/encoding/cl100k_base').then((enc) => ({
    name: 'cl100k_base',
    count: (text: string) => enc.countTokens(text),
    head: (text: string, n: number) => enc.decode(enc.encode(text).slice(0, n)),
  }));
  return loading;
}
